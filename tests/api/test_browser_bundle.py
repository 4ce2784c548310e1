"""The browser SDK is served where the README's script tag points, and a refused CORS
preflight is logged once per origin, naming VEKST_CORS_ORIGINS."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routes.browser_sdk import BUNDLE_DIRECTORY, BUNDLE_NAMES, load_bundles
from experiments.settings import load_settings

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize("name", BUNDLE_NAMES)
def test_the_bundle_is_served_with_caching_and_cors_headers(sqlite_url: str, name: str) -> None:
    with TestClient(create_app(load_settings(database_url=sqlite_url))) as client:
        response = client.get(f"/static/{name}", headers={"Origin": "https://shop.example"})
        assert response.status_code == 200
        assert response.content == (BUNDLE_DIRECTORY / name).read_bytes()
        assert b"createClient" in response.content
        assert response.headers["content-type"] == "text/javascript; charset=utf-8"
        assert response.headers["cache-control"] == "public, max-age=3600"
        assert response.headers["access-control-allow-origin"] == "*"
        etag = response.headers["etag"]
        again = client.get(f"/static/{name}", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag


def test_the_readme_script_tag_points_at_the_served_bundle(sqlite_url: str) -> None:
    assert '<script src="https://ab.shop.example/static/vekst.min.js"></script>' in (
        README.read_text()
    )
    with TestClient(create_app(load_settings(database_url=sqlite_url))) as client:
        assert client.get("/static/vekst.css").status_code == 200  # the pages' mount still serves


def test_a_missing_bundle_says_how_to_build_it(sqlite_url: str, tmp_path: Path) -> None:
    app = create_app(load_settings(database_url=sqlite_url))
    app.state.browser_bundles = load_bundles(tmp_path)  # an installation without the files
    with TestClient(app) as client:
        response = client.get("/static/vekst.min.js")
    assert response.status_code == 404
    assert "make browser-sdk" in response.json()["detail"]


def test_a_refused_preflight_is_logged_once_per_origin_naming_the_setting(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(database_url=sqlite_url, cors_origins="https://shop.example")
    preflight = {
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }
    with TestClient(create_app(settings)) as client, caplog.at_level(logging.WARNING):
        for origin in ["http://127.0.0.1:8080", "http://127.0.0.1:8080", "https://shop.example"]:
            client.options("/v1/sdk/config", headers={"Origin": origin, **preflight})
        client.get("/healthz", headers={"Origin": "http://elsewhere.example"})  # no preflight
    refusals = [record.getMessage() for record in caplog.records if "CORS" in record.getMessage()]
    assert refusals == [
        "refused a CORS preflight from origin 'http://127.0.0.1:8080': add it to "
        "VEKST_CORS_ORIGINS (comma-separated; allowed now: https://shop.example)"
    ]


def test_a_preflight_without_any_allowed_origin_is_logged_too(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {"Origin": "http://127.0.0.1:8080", "Access-Control-Request-Method": "POST"}
    with TestClient(create_app(load_settings(database_url=sqlite_url))) as client:
        with caplog.at_level(logging.WARNING):
            response = client.options("/v1/events", headers=headers)
    assert response.status_code >= 400
    assert "add it to VEKST_CORS_ORIGINS (comma-separated; allowed now: none)" in caplog.text
