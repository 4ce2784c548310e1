"""Liveness, readiness and the OpenAPI document."""

from __future__ import annotations

import redis
from fastapi.testclient import TestClient

from api.app import create_app
from experiments.events.streams import persistence_problem
from experiments.settings import load_settings
from tests.processes import free_port


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
    with TestClient(create_app(load_settings(database_url=sqlite_url, redis_url=redis_url))) as c:
        body = c.get("/readyz").json()
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"] == "ok"
    assert body["checks"]["worker"]["state"] in ("starting", "running")
    if aof:
        assert body["status"] == "ready" and "redis_persistence" not in body["checks"]
    else:
        assert body["status"] == "degraded"
        assert body["checks"]["redis_persistence"] == "none (appendonly is off)"
        assert any("appendonly" in warning for warning in body["warnings"])


def test_a_redis_without_aof_is_named() -> None:
    assert persistence_problem({"aof_enabled": 1}) is None
    assert persistence_problem({}) is None  # a Redis that does not say: no false alarm
    assert "appendonly" in (persistence_problem({"aof_enabled": 0}) or "")


def test_openapi_declares_the_bearer_scheme_on_every_protected_operation(
    client: TestClient,
) -> None:
    document = client.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            # The beacon takes its sdk key in the body: sendBeacon cannot set a header.
            if path in ("/healthz", "/readyz", "/v1/events/beacon"):
                assert "security" not in operation
            else:
                assert operation["security"] == [{"bearerAuth": []}], (method, path)


def test_openapi_lists_the_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
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
