"""The app serves its routers' own route objects (`api.route_table.add_routes`) where FastAPI's
`include_router` would build a copy of each for every app: the two must serve the same API."""

from __future__ import annotations

import json

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

import api.app
import api.pages.workspace.routers
from api.app import create_app
from experiments.settings import load_settings
from tests.conftest import ADMIN_KEY, SDK_KEY


def _app() -> FastAPI:
    return create_app(load_settings(database_url="sqlite://", admin_key=ADMIN_KEY, sdk_key=SDK_KEY))


def _include(app: FastAPI, router: APIRouter) -> None:
    app.include_router(router)


def test_the_openapi_and_the_routing_are_those_include_router_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ours = _app()
    monkeypatch.setattr(api.app, "add_routes", _include)
    monkeypatch.setattr(api.pages.workspace.routers, "add_routes", _include)
    included = _app()
    # The same document, its operations in the same order (the order routes are matched in).
    assert json.dumps(ours.openapi()) == json.dumps(included.openapi())
    # Pages are not in the OpenAPI: the same answers (the pages' own tests log in).
    for path in ("/experiments/new", "/experiments/checkout", "/login", "/v1/nowhere"):
        answers = [TestClient(app).get(path, follow_redirects=False) for app in (ours, included)]
        assert answers[0].status_code == answers[1].status_code, path
        assert answers[0].headers.get("location") == answers[1].headers.get("location"), path
