"""Liveness, readiness and the OpenAPI document."""

from __future__ import annotations

from typing import Any

import redis
from fastapi.testclient import TestClient

from api.app import create_app
from api.routes.health import _check_worker, _Report
from experiments.events.streams import persistence_problem
from experiments.events.supervisor import WorkerStatus
from experiments.settings import load_settings
from tests.conftest import ADMIN_KEY, SDK_KEY
from tests.processes import free_port

METRICS_TOKEN = "metrics-token-0123456789"


def test_healthz_and_readyz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok"}


def test_readyz_is_degraded_not_down_when_only_redis_is_unreachable(sqlite_url: str) -> None:
    settings = load_settings(
        database_url=sqlite_url, redis_url=f"redis://127.0.0.1:{free_port()}/0", start_worker=False
    )
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    # Events still reach SQL: an orchestrator must keep this instance in rotation.
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["redis"].startswith("unreachable")


def test_readyz_is_503_when_events_can_go_nowhere() -> None:
    # A database nobody listens for, and no Redis.
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/vekst?connect_timeout=1"
    settings = load_settings(database_url=url)
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "not ready"


def test_readyz_with_real_redis_shows_the_worker_and_persistence(
    sqlite_url: str, redis_url: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    aof = client.info("persistence")["aof_enabled"]
    client.close()
    settings = load_settings(database_url=sqlite_url, redis_url=redis_url, admin_key=ADMIN_KEY)
    with TestClient(create_app(settings)) as c:
        plain = c.get("/readyz").json()
        body = c.get("/readyz", headers={"Authorization": f"Bearer {ADMIN_KEY}"}).json()
    assert plain["checks"] == {
        "database": "ok",
        "redis": "ok" if aof else "degraded",
        "worker": "ok",
    }
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"] == "ok"
    assert body["checks"]["worker"]["state"] in ("starting", "running")
    if aof:
        assert body["status"] == "ready" and "redis_persistence" not in body["checks"]
    else:
        assert body["status"] == "degraded"
        assert body["checks"]["redis_persistence"] == "none (appendonly is off)"
        assert any("appendonly" in warning for warning in body["warnings"])


def test_readyz_tells_details_only_to_operators(sqlite_url: str) -> None:
    port = free_port()
    settings = load_settings(
        database_url=sqlite_url,
        redis_url=f"redis://127.0.0.1:{port}/0",
        start_worker=False,
        admin_key=ADMIN_KEY,
        sdk_key=SDK_KEY,
        metrics_token=METRICS_TOKEN,
    )
    with TestClient(create_app(settings)) as client:
        anyone = client.get("/readyz")
        admin = client.get("/readyz", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
        scraper = client.get("/readyz", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        sdk = client.get("/readyz", headers={"Authorization": f"Bearer {SDK_KEY}"})
        unknown = client.get("/readyz", headers={"Authorization": "Bearer not-a-key-at-all"})
    assert anyone.status_code == 200
    assert anyone.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "redis": "unreachable"},
    }
    assert str(port) not in anyone.text and "127.0.0.1" not in anyone.text
    for operator in (admin, scraper):
        assert operator.status_code == 200 and operator.json()["status"] == "degraded"
        redis_check = operator.json()["checks"]["redis"]
        assert redis_check.startswith("unreachable: ") and str(port) in redis_check
    assert sdk.status_code == 403 and unknown.status_code == 401


def test_a_stalled_worker_is_one_word_without_a_key() -> None:
    report = _Report()
    error = "ConnectionError: Error 111 connecting to 10.1.2.3:6380. Connection refused."
    _check_worker(WorkerStatus("restarting", 3, error, 10, 0), report)
    assert report.words == {"worker": "degraded"}
    assert report.details["worker"]["last_error"] == error
    assert report.warnings == ["the event worker is restarting"]


def test_a_redis_without_aof_is_named() -> None:
    assert persistence_problem({"aof_enabled": 1}) is None
    assert persistence_problem({}) is None  # a Redis that does not say: no false alarm
    assert "appendonly" in (persistence_problem({"aof_enabled": 0}) or "")


def test_openapi_declares_the_bearer_scheme_on_every_protected_operation(
    openapi_document: dict[str, Any],
) -> None:
    document = openapi_document
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            # The beacon takes its sdk key in the body: sendBeacon cannot set a header.
            if path in ("/healthz", "/readyz", "/v1/events/beacon"):
                assert "security" not in operation
            else:
                assert operation["security"] == [{"bearerAuth": []}], (method, path)


def test_openapi_lists_the_endpoints(client: TestClient, openapi_document: dict[str, Any]) -> None:
    paths = openapi_document["paths"]
    assert {"/v1/experiments", "/v1/experiments/{key}/start", "/healthz"} <= set(paths)
    assert client.get("/docs").status_code == 200


def test_cors_for_configured_origins(sqlite_url: str) -> None:
    settings = load_settings(database_url=sqlite_url, cors_origins="https://shop.example")
    with TestClient(create_app(settings)) as client:
        response = client.options(
            "/healthz",
            headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "GET"},
        )
    assert response.headers["access-control-allow-origin"] == "https://shop.example"
