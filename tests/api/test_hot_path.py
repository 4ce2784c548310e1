"""`POST /v1/assign` served by the hot path answers exactly as the whole way through the app:
the same status, headers that matter and problem documents, for successes and refusals; and
the route declares nothing the hot path would skip (a dependency, a parameter, a response for
the response model to check, a body limit), which the hot path refuses."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from api.app import create_app
from api.hot_path import HotPath, route_of, skipped_by_hot_path
from api.routes import assign
from experiments.settings import load_settings
from tests.api.helpers import running_experiment
from tests.conftest import ADMIN_KEY, SDK_KEY

SDK = {"Authorization": f"Bearer {SDK_KEY}"}
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


def _without_hot_path(app: FastAPI) -> FastAPI:
    hot_path: object = HotPath
    app.user_middleware = [m for m in app.user_middleware if m.cls is not hot_path]
    return app


@pytest.fixture
def clients(sqlite_url: str) -> Iterator[tuple[TestClient, TestClient]]:
    """The shipped app and the same app without its hot path, on one database."""
    settings = load_settings(
        database_url=sqlite_url,
        admin_key=ADMIN_KEY,
        sdk_key=SDK_KEY,
        max_body_bytes=2048,
        assign_rate_per_second=0.01,
        assign_burst=4,
    )
    with (
        TestClient(create_app(settings)) as hot,
        TestClient(_without_hot_path(create_app(settings))) as whole,
    ):
        running_experiment(hot, ADMIN)
        yield hot, whole


REQUESTS: dict[str, dict[str, object]] = {
    "assigned": {"json": {"unit_id": "u-1", "experiments": ["checkout-onepage"]}, "headers": SDK},
    "exposed": {
        "json": {"unit_id": "u-2", "experiments": ["checkout-onepage"], "expose": True},
        "headers": SDK,
    },
    "no key": {"json": {"unit_id": "u-1"}},
    "unknown key": {"json": {"unit_id": "u-1"}, "headers": {"Authorization": "Bearer nope"}},
    "bad body": {"json": {"unit_id": "", "experiments": ["NOT A SLUG"]}, "headers": SDK},
    "not json": {"content": b"{", "headers": {**SDK, "Content-Type": "application/json"}},
    "too large": {"json": {"unit_id": "u", "attributes": {"a": "x" * 4000}}, "headers": SDK},
    "too large, chunked": {
        "content": iter([b'{"unit_id": "u", "attributes": {"a": "', b"x" * 4000, b'"}}']),
        "headers": {**SDK, "Content-Type": "application/json"},
    },
}


@pytest.mark.parametrize("name", list(REQUESTS))
def test_hot_path_answers_as_the_whole_way(
    clients: tuple[TestClient, TestClient], name: str
) -> None:
    hot, whole = clients
    request = REQUESTS[name]
    if name == "too large, chunked":  # an iterator is consumed: one per client
        chunks = list(request["content"])  # type: ignore[call-overload]
        answers = [c.post("/v1/assign", **{**request, "content": iter(chunks)}) for c in clients]
    else:
        answers = [c.post("/v1/assign", **request) for c in (hot, whole)]  # type: ignore[arg-type]
    fast, slow = answers
    assert fast.status_code == slow.status_code
    assert fast.headers["content-type"] == slow.headers["content-type"]
    assert fast.json() == slow.json()
    assert "x-request-id" in fast.headers


def test_a_refused_rate_is_counted_once_and_answered_with_retry_after(
    clients: tuple[TestClient, TestClient],
) -> None:
    hot, _ = clients
    answers = [
        hot.post("/v1/assign", json={"unit_id": f"u-{i}"}, headers=ADMIN).status_code
        for i in range(6)
    ]
    assert answers == [200, 200, 200, 200, 429, 429]
    refused = hot.post("/v1/assign", json={"unit_id": "u"}, headers=ADMIN)
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert int(refused.headers["retry-after"]) >= 1
    scrape = hot.get("/metrics", headers=ADMIN).text  # /metrics is not rate limited
    assert 'vekst_rate_limited_requests_total{limit="assign"} 3.0' in scrape
    assert 'route="/v1/assign",status="2xx"' in scrape.replace('method="POST",', "")


def test_the_hot_path_charges_each_client_as_the_whole_way(sqlite_url: str) -> None:
    settings = load_settings(
        database_url=sqlite_url,
        admin_key=ADMIN_KEY,
        sdk_key=SDK_KEY,
        client_assign_rate_per_second=0.01,
        client_assign_burst=2,
    )
    with (
        TestClient(create_app(settings)) as hot,
        TestClient(_without_hot_path(create_app(settings))) as whole,
    ):
        answers = [
            [c.post("/v1/assign", json={"unit_id": f"u-{i}"}, headers=SDK) for i in range(3)]
            for c in (hot, whole)
        ]
        fast, slow = answers
        admin = hot.post("/v1/assign", json={"unit_id": "u"}, headers=ADMIN)
        scrape = hot.get("/metrics", headers=ADMIN).text
    assert [a.status_code for a in fast] == [a.status_code for a in slow] == [200, 200, 429]
    (refused, detail), (_, whole_detail) = ((a[-1], a[-1].json().pop("detail")) for a in answers)
    assert refused.json() | {"detail": ""} == slow[-1].json() | {"detail": ""}
    # The same words; the seconds to wait differ by the time between the two requests.
    assert detail.partition("retry after")[0] == whole_detail.partition("retry after")[0]
    assert detail.startswith("this client address's assign limit is 0.01 requests/s")
    assert fast[-1].headers["retry-after"] == slow[-1].headers["retry-after"]
    assert admin.status_code == 200  # a secret key is not charged per client
    assert 'vekst_rate_limited_requests_total{limit="assign_per_client"} 1.0' in scrape


def test_the_assign_route_declares_nothing_the_hot_path_would_skip() -> None:
    route = route_of(assign.router, assign.assign)
    assert (route.path, route.methods) == ("/v1/assign", {"POST"})
    assert skipped_by_hot_path(route) == []


def _needs_a_setting() -> str:
    return "setting"


async def _with_a_dependency(
    request: Request, setting: Annotated[str, Depends(_needs_a_setting)]
) -> JSONResponse:
    return JSONResponse({"unit_id": setting})


async def _with_a_parameter(request: Request, unit_id: str) -> JSONResponse:
    return JSONResponse({"unit_id": unit_id})


async def _answering_a_model(request: Request) -> assign.AssignResponse:
    return assign.AssignResponse(unit_id="u", assignments={})


async def _plain(request: Request) -> JSONResponse:
    return JSONResponse({"unit_id": "u", "assignments": {}})


ROUTES: dict[str, tuple[Callable[..., Any], dict[str, Any], str]] = {
    "a dependency": (_with_a_dependency, {}, "dependency"),
    "a route dependency": (_plain, {"dependencies": [Depends(_needs_a_setting)]}, "dependency"),
    "a query parameter": (_with_a_parameter, {}, "parameter 'unit_id'"),
    "a response model to check": (_answering_a_model, {}, "for the response model to check"),
    "a route body limit": (_plain, {"max_body_size": 1024}, "a body limit of 1024 bytes"),
}


@pytest.mark.parametrize("name", list(ROUTES))
def test_the_hot_path_refuses_a_route_with_what_it_would_skip(name: str) -> None:
    endpoint, options, skipped = ROUTES[name]
    router = APIRouter()
    router.add_api_route("/v1/assign", endpoint, methods=["POST"], **options)
    route = route_of(router, endpoint)
    assert any(skipped in item for item in skipped_by_hot_path(route))
    with pytest.raises(ValueError, match="the hot path would skip what /v1/assign declares"):
        HotPath(FastAPI(), route)
