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


@pytest.mark.parametrize("log_format", ["json", "human"])
def test_request_lines_hold_the_route_template_and_no_secrets(
    sqlite_url: str, capfd: pytest.CaptureFixture[str], admin_headers, sdk_headers, log_format
) -> None:
    settings = load_settings(
        database_url=sqlite_url, admin_key=ADMIN_KEY, sdk_key=SDK_KEY, log_format=log_format
    )
    with TestClient(create_app(settings)) as client:
        client.post("/v1/experiments", json=experiment_body("logged"), headers=admin_headers)
        client.post("/v1/experiments/logged/start", headers=admin_headers)
        answer = client.post(
            "/v1/assign",
            json={"unit_id": "visitor-secret-42", "attributes": {"email": "a@b.no"}},
            headers={**sdk_headers, "X-Request-ID": "shop-req.7"},
        )
        fresh = client.get("/v1/experiments/logged", headers=admin_headers)
    written = capfd.readouterr().err  # flushed at shutdown at the latest
    assert answer.headers["x-request-id"] == "shop-req.7"
    assert len(fresh.headers["x-request-id"]) == 16  # made here: 8 random bytes in hex
    for secret in (SDK_KEY, ADMIN_KEY, "visitor-secret-42", "a@b.no"):
        assert secret not in written
    if log_format == "human":
        assert "POST /v1/assign 200  duration_ms=" in written
        assert "request_id=shop-req.7" in written
        return
    lines = [json.loads(line) for line in written.splitlines() if line.startswith("{")]
    routes = [line["route"] for line in lines]
    assert routes == [
        "/v1/experiments",
        "/v1/experiments/{key}/start",
        "/v1/assign",
        "/v1/experiments/{key}",
    ]
    assign = lines[2]
    assert assign["request_id"] == "shop-req.7" and assign["logger"] == "vekst.requests"
    assert assign["status"] == 200 and assign["method"] == "POST"
    assert assign["duration_ms"] > 0 and assign["level"] == "info"


def test_the_human_format_is_one_readable_line() -> None:
    record = logging.makeLogRecord(
        {"msg": "GET %s %d", "args": ("/healthz", 200), "levelname": "INFO", "route": "/healthz"}
    )
    line = HumanLines().format(record)
    assert "info" in line and "GET /healthz 200" in line and "route=/healthz" in line
    assert "\n" not in line


def test_json_lines_carry_the_extra_fields() -> None:
    record = logging.makeLogRecord(
        {"msg": "event worker: %s", "args": ("down",), "levelname": "WARNING", "stream": "s"}
    )
    line = json.loads(JsonLines().format(record))
    assert line["message"] == "event worker: down" and line["level"] == "warning"
    assert line["stream"] == "s" and isinstance(line["pid"], int)


@pytest.mark.parametrize("setting", [{"request_log": False}, {"log_level": "warning"}])
def test_request_logging_can_be_turned_off(
    sqlite_url: str, capfd: pytest.CaptureFixture[str], setting: dict[str, object]
) -> None:
    settings = load_settings(database_url=sqlite_url, **setting)
    with TestClient(create_app(settings)) as client:
        client.get("/healthz")
    assert "/healthz" not in capfd.readouterr().err


@pytest.mark.parametrize("formatter", [JsonLines(), HumanLines()])
def test_uvicorns_coloured_copy_of_the_message_is_left_out(formatter: logging.Formatter) -> None:
    """uvicorn logs `extra={"color_message": ...}`: the message again with ANSI escapes."""
    record = logging.makeLogRecord(
        {
            "msg": "Started server process [%d]",
            "args": (7,),
            "levelname": "INFO",
            "color_message": "Started server process [\x1b[36m%d\x1b[0m]",
        }
    )
    line = formatter.format(record)
    assert "Started server process [7]" in line
    assert "color_message" not in line and "\x1b" not in line and "\\u001b" not in line
