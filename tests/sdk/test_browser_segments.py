"""The segments build of the browser SDK in real headless Chromium: an exposure carries the
experiment's dimensions, with `device` from the browser's own User-Agent Client Hints and user
agent, `source` from the page URL's utm parameters, and `visitor_type` from the id cookie."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from tests.browser import (
    DESKTOP_USER_AGENT,
    HIDE_WEBDRIVER,
    browser_unavailable,
    serve_directory,
    shared_chromium,
)
from tests.processes import free_port

JS_ROOT = Path(__file__).resolve().parents[2] / "sdk" / "js"
PHONE_USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Mobile Safari/537.36"
)
VARIANTS = [{"key": "control", "weight": 1}, {"key": "treatment", "weight": 1}]


def _experiment(key: str) -> dict[str, Any]:
    return {
        "key": key,
        "salt": f"salt-{key}",
        "status": "running",
        "unit_type": "visitor",
        "variants": VARIANTS,
        "dimensions": ["device", "source", "visitor_type", "market"],
    }


CONFIG = {"version": 1, "experiments": [_experiment("first"), _experiment("second")]}
# Assigns `key` on the page with the segments build and resolves to the exposure it sent; the
# config is given and the API answered by a recording fetch, so no server is needed.
EXPOSE = """async ([config, key]) => {
  const { createClient } = await import("/dist/vekst-segments.min.mjs");
  const sent = [];
  const fetch = async (url, init) => {
    if (url.endsWith("/v1/events")) sent.push(...JSON.parse(init.body).events);
    return { status: url.endsWith("/v1/events") ? 202 : 304, headers: { get: () => null } };
  };
  const client = createClient({
    apiUrl: "https://ab.example", sdkKey: "vk_sdk_test", config, fetch, consent: true,
    refreshInterval: 0, flushInterval: 1,
  });
  client.assign(key, undefined, { market: "NO", email: "kari@example.no" });
  await client.flush();
  return sent;
}"""


def _exposure(browser: Browser, url: str, key: str, **context: Any) -> list[dict[str, Any]]:
    visitor = browser.new_context(**context)
    visitor.add_init_script(HIDE_WEBDRIVER)
    page = visitor.new_page()
    page.goto(url)
    sent: list[dict[str, Any]] = page.evaluate(EXPOSE, [CONFIG, key])
    # A second page of the same visitor, for another experiment: now a returning visitor.
    page.goto(url)
    sent += page.evaluate(EXPOSE, [CONFIG, "second"])
    visitor.close()
    return sent


@pytest.mark.browser
@pytest.mark.processes
def test_segments_build_in_chromium() -> None:
    if not (JS_ROOT / "dist" / "vekst-segments.min.mjs").exists():
        browser_unavailable("the browser SDK is not built (make js-test, or npm run build)")
    with shared_chromium() as browser, serve_directory(JS_ROOT, free_port()) as shop:
        landing = f"{shop}/example/thanks.html?utm_medium=cpc&utm_source=google"
        desktop = _exposure(browser, landing, "first", user_agent=DESKTOP_USER_AGENT)
        phone = _exposure(browser, landing, "first", user_agent=PHONE_USER_AGENT, is_mobile=True)
    for sent, device in ((desktop, "desktop"), (phone, "mobile")):
        first, second = sent
        assert first["unit_id"] == second["unit_id"], json.dumps(sent)
        assert first["attributes"] == {
            "device": device,
            "source": "paid",
            "visitor_type": "new",
            "market": "NO",
        }
        assert second["attributes"]["visitor_type"] == "returning"
