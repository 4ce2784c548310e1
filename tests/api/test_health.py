"""Liveness, readiness and the OpenAPI document."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from experiments.settings import load_settings


def test_healthz_and_readyz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok"}


def test_readyz_reports_unreachable_redis(sqlite_url: str) -> None:
    settings = load_settings(database_url=sqlite_url, redis_url="redis://127.0.0.1:1/0")
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"].startswith("unreachable")


def test_readyz_with_real_redis(sqlite_url: str, redis_url: str) -> None:
    with TestClient(create_app(load_settings(database_url=sqlite_url, redis_url=redis_url))) as c:
        assert c.get("/readyz").json()["checks"] == {"database": "ok", "redis": "ok"}


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
