"""The browser SDK end to end: the example shop page in real headless Chromium against a real
API server. Before the visitor accepts the consent banner the page shows the control and sets
no cookie; then it assigns and shows the variant's payload, its exposure and purchase arrive
once (sent as a beacon when the visitor leaves for the checkout), the server agrees on the
variant, and a reload keeps the visitor in it."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests import local_http
from tests.browser import (
    DESKTOP_USER_AGENT,
    HIDE_WEBDRIVER,
    browser_unavailable,
    serve_directory,
    shared_chromium,
)
from tests.conftest import ADMIN_KEY, SDK_KEY
from tests.live_server import serving_api
from tests.processes import free_port

JS_ROOT = Path(__file__).resolve().parents[2] / "sdk" / "js"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
SDK = {"Authorization": f"Bearer {SDK_KEY}"}
TEXTS = {"control": "Legg i handlekurven", "buy-now": "Kjøp nå"}
MODULE_ASSIGN = """async () => {
  const { createClient } = await import("../dist/vekst.min.mjs");
  const client = createClient({ ...window.VEKST_SETTINGS, consent: true });
  await client.ready();
  return client.assign("cta-text").variant;
}"""
# Records each navigator.sendBeacon call of the page in sessionStorage (kept across pages).
RECORD_BEACONS = """
const sendBeacon = Navigator.prototype.sendBeacon;
Navigator.prototype.sendBeacon = function (url, data) {
  const queued = sendBeacon.call(this, url, data);
  const seen = JSON.parse(sessionStorage.getItem("beacons") || "[]");
  sessionStorage.setItem("beacons", JSON.stringify([...seen, { url, queued }]));
  return queued;
};
"""
CTA_EXPERIMENT = {
    "key": "cta-text",
    "name": "CTA text",
    "hypothesis": "A shorter call to action raises add-to-cart",
    "template": "cta",
    "variants": [
        {"key": key, "name": text, "weight": 1, "payload": {"text": text}}
        for key, text in TEXTS.items()
    ],
}


def _summary(api: str) -> dict[str, Any]:
    response = local_http.get(f"{api}/v1/events/summary", headers=ADMIN)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def _wait_for_summary(api: str, expected: dict[str, Any], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        summary = _summary(api)
        counts = {
            "exposures": {row["variant"]: row["count"] for row in summary["exposures"]},
            "conversions": {row["name"]: row["count"] for row in summary["conversions"]},
        }
        if counts == expected:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"events summary {counts} never became {expected}")
        time.sleep(0.2)


@pytest.mark.browser
def test_example_shop_page_in_chromium(sqlite_url: str) -> None:
    if not (JS_ROOT / "dist" / "vekst.min.js").exists():
        browser_unavailable("the browser SDK is not built (make js-test, or npm run build)")
    with shared_chromium() as browser:
        shop_port = free_port()
        cors = f"http://127.0.0.1:{shop_port}"
        with serving_api(sqlite_url, cors_origins=[cors]) as api:
            created = local_http.post(f"{api}/v1/experiments", json=CTA_EXPERIMENT, headers=ADMIN)
            assert created.status_code == 201, created.text
            local_http.post(
                f"{api}/v1/experiments/cta-text/start", headers=ADMIN
            ).raise_for_status()
            settings = f'window.VEKST_SETTINGS = {{apiUrl: "{api}", sdkKey: "{SDK_KEY}"}};'
            overrides = {"/example/settings.js": settings.encode()}
            with serve_directory(JS_ROOT, shop_port, overrides) as shop:
                product = f"{shop}/example/index.html"

                # A crawler (navigator.webdriver, a headless user agent) sees the control.
                # It is told so once, in the console, with the option for automated tests.
                crawler = browser.new_context()
                page = crawler.new_page()
                said: list[str] = []
                page.on("console", lambda message: said.append(message.text))
                page.goto(product)
                page.wait_for_selector("body[data-ready]")
                assert page.inner_text("#cta") == TEXTS["control"]
                page.click("#consent-accept")
                page.click("#cta")
                assert [line for line in said if line.startswith("vekst:")] == [
                    "vekst: treated as a bot (webdriver); see botDetection"
                ]
                crawler.close()

                # A shop origin the server does not allow: the console names the setting.
                elsewhere = browser.new_context(user_agent=DESKTOP_USER_AGENT)
                elsewhere.add_init_script(HIDE_WEBDRIVER)
                page = elsewhere.new_page()
                said = []
                page.on("console", lambda message: said.append(message.text))
                page.goto(product.replace("127.0.0.1", "localhost"))
                page.wait_for_selector("body[data-ready]")
                assert any(
                    line.startswith("vekst: config: ") and "VEKST_CORS_ORIGINS" in line
                    for line in said
                ), said
                elsewhere.close()

                visitor = browser.new_context(user_agent=DESKTOP_USER_AGENT)
                visitor.add_init_script(HIDE_WEBDRIVER)
                visitor.add_init_script(RECORD_BEACONS)
                page = visitor.new_page()
                logged: list[str] = []
                page.on("console", lambda message: logged.append(message.text))
                page.goto(product)
                page.wait_for_selector("body[data-ready]")
                # No consent yet: the control, no cookie (consent is opt-in).
                assert page.get_attribute("body", "data-variant") == "control"
                assert page.inner_text("#cta") == TEXTS["control"]
                assert not [c["name"] for c in visitor.cookies() if c["name"].startswith("vekst")]
                page.click("#consent-accept")
                page.wait_for_function("document.cookie.includes('vekst_id=')")
                assert page.is_hidden("#consent")
                variant = page.get_attribute("body", "data-variant")
                assert variant in TEXTS
                assert page.inner_text("#cta") == TEXTS[variant]

                cookies = {c["name"]: c["value"] for c in visitor.cookies()}
                answer = local_http.post(
                    f"{api}/v1/assign",
                    json={"unit_id": cookies["vekst_id"], "experiments": ["cta-text"]},
                    headers=SDK,
                ).json()
                assert answer["assignments"]["cta-text"]["variant"] == variant

                # The ES module build, imported by the same page, gives the same variant.
                assert page.evaluate(MODULE_ASSIGN) == variant

                page.click("#cta")
                page.click("#checkout")  # tracks the purchase and leaves the page
                page.wait_for_url("**/thanks.html")
                expected = {
                    "exposures": {variant: 1},
                    "conversions": {"add_to_cart": 1, "cta_click": 1, "purchase": 1},
                }
                _wait_for_summary(api, expected)
                beacons = json.loads(page.evaluate("sessionStorage.getItem('beacons')") or "[]")
                assert beacons == [{"url": f"{api}/v1/events/beacon", "queued": True}]

                page.goto(product)  # a reload: same visitor, same variant, no new exposure
                page.wait_for_selector("body[data-ready]")
                assert page.is_hidden("#consent")  # the shop remembers the choice
                assert page.get_attribute("body", "data-variant") == variant
                assert page.inner_text("#cta") == TEXTS[variant]
                page.goto(f"{shop}/example/thanks.html")
                time.sleep(0.5)
                _wait_for_summary(api, expected)
                assert not [line for line in logged if line.startswith("vekst:")]
                visitor.close()
