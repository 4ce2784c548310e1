"""The request log: one JSON line per request with the route template, never a key, a unit id
or a payload; a request id the client can quote; a readable format for development."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.observability.logs import HumanLines, JsonLines
from experiments.settings import load_settings
from tests.api.helpers import experiment_body
from tests.conftest import ADMIN_KEY, SDK_KEY


def test_request_lines_hold_the_route_template_and_no_secrets(
    sqlite_url: str, caplog: pytest.LogCaptureFixture, admin_headers, sdk_headers
) -> None:
    settings = load_settings(database_url=sqlite_url, admin_key=ADMIN_KEY, sdk_key=SDK_KEY)
    with TestClient(create_app(settings)) as client:
        client.post("/v1/experiments", json=experiment_body("logged"), headers=admin_headers)
        client.post("/v1/experiments/logged/start", headers=admin_headers)
        with caplog.at_level(logging.INFO, logger="vekst.requests"):
            answer = client.post(
                "/v1/assign",
                json={"unit_id": "visitor-secret-42", "attributes": {"email": "a@b.no"}},
                headers={**sdk_headers, "X-Request-ID": "shop-req.7"},
            )
            fresh = client.get("/v1/experiments/logged", headers=admin_headers)
    assert answer.headers["x-request-id"] == "shop-req.7"
    assert len(fresh.headers["x-request-id"]) == 16  # made here: 8 random bytes in hex
    records = [r for r in caplog.records if r.name == "vekst.requests"]
    lines = [json.loads(JsonLines().format(record)) for record in records]
    assert [line["route"] for line in lines] == ["/v1/assign", "/v1/experiments/{key}"]
    assert lines[0]["request_id"] == "shop-req.7"
    assert lines[0]["status"] == 200 and lines[0]["method"] == "POST"
    assert lines[0]["duration_ms"] > 0 and lines[0]["level"] == "info"
    written = "\n".join(JsonLines().format(r) + HumanLines().format(r) for r in records)
    for secret in (SDK_KEY, ADMIN_KEY, "visitor-secret-42", "a@b.no"):
        assert secret not in written


def test_the_human_format_is_one_readable_line() -> None:
    record = logging.makeLogRecord(
        {"msg": "GET %s %d", "args": ("/healthz", 200), "levelname": "INFO", "route": "/healthz"}
    )
    line = HumanLines().format(record)
    assert "info" in line and "GET /healthz 200" in line and "route=/healthz" in line
    assert "\n" not in line


def test_request_logging_can_be_turned_off(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(database_url=sqlite_url, request_log=False)
    with TestClient(create_app(settings)) as client, caplog.at_level(logging.INFO):
        client.get("/healthz")
    assert not [r for r in caplog.records if r.name == "vekst.requests"]
