"""/docs serves Swagger UI from this server's own files under a strict CSP, works in Chromium
(an admin key typed into "Authorize" reaches only this server), and is off in production unless
VEKST_DOCS=true; /redoc is never served."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from experiments.settings import load_settings
from tests import local_http
from tests.browser import shared_chromium
from tests.conftest import ADMIN_KEY
from tests.live_server import serving_api


def test_docs_reference_no_other_host_and_send_a_strict_policy(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(source.startswith("/") for source in sources), sources
    assert "//" not in " ".join(sources) and "<script>" not in page.text  # no inline script
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "default-src 'none'" in policy
    assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200, source
    script = client.get("/docs/assets/swagger-ui-bundle.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert len(script.content) > 100_000  # the real Swagger UI, not a stand-in
    assert client.get("/docs/assets/redoc.standalone.js").status_code == 422
    assert client.get("/redoc").status_code == 404
    assert client.get("/openapi.json").status_code == 200


@pytest.mark.parametrize(
    ("overrides", "served"),
    [
        ({"environment": "production"}, False),
        ({"environment": "production", "docs": True}, True),
        ({"docs": False}, False),
        ({}, True),
    ],
)
def test_docs_are_off_in_production_unless_asked_for(
    sqlite_url: str, overrides: dict[str, object], served: bool
) -> None:
    settings = load_settings(database_url=sqlite_url, start_scheduler=False, **overrides)
    with TestClient(create_app(settings)) as client:
        expected = 200 if served else 404
        assert client.get("/docs").status_code == expected
        assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == expected
        assert client.get("/redoc").status_code == 404


@pytest.mark.browser
def test_swagger_ui_runs_under_its_policy_in_chromium(sqlite_url: str, tmp_path: Path) -> None:
    with shared_chromium() as browser, serving_api(sqlite_url) as api:
        page = browser.new_page()
        requested: list[str] = []
        refused: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.on("console", lambda message: refused.append(message.text))
        page.goto(f"{api}/docs")
        page.wait_for_selector(".opblock")
        assert page.locator(".opblock").count() == len(_operations(api))
        page.click("button.authorize")
        page.fill(".auth-container input", ADMIN_KEY)
        page.click(".auth-btn-wrapper button.authorize")
        page.click("button.btn-done")
        listing = page.locator("#operations-experiments-list_experiments_v1_experiments_get")
        listing.locator(".opblock-summary").click()
        listing.locator("button.try-out__btn").click()
        listing.locator("button.execute").click()
        status = listing.locator(".live-responses-table tr.response .response-col_status")
        assert status.inner_text().strip() == "200"  # fetched from this server with the key
        page.screenshot(path=str(tmp_path / "docs.png"))
        assert all(url.startswith(api) for url in requested), requested
        assert not [text for text in refused if "Content Security Policy" in text], refused


def _operations(api: str) -> list[str]:
    paths = local_http.get(f"{api}/openapi.json").json()["paths"]
    return [f"{method} {path}" for path, item in paths.items() for method in item]
