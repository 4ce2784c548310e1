"""The workspace in real Chromium: an editor creates a CTA test from its template (two variants
with payloads, targeting, traffic), starts it, and the SDK serves it; then ramps it and stops it
with a winner. The form is also used by keyboard and at a phone's width."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.accounts import add_user, email_of, log_in_page
from tests.api.pages.test_browser import ADMIN
from tests.api.pages.test_pages import csrf_of
from tests.browser import launch_chromium
from tests.conftest import SDK_KEY
from tests.live_server import running_api
from tests.waiting import wait_until

SDK = {"Authorization": f"Bearer {SDK_KEY}"}


def log_in_as_editor(page: Any, api: str, database: str) -> None:
    """Log in through the login form as a user with the editor role."""
    add_user(database, "editor")
    log_in_page(page, api, "editor")


def fill_cta_form(page: Any) -> None:
    page.fill("#key", "buy-button")
    page.fill("#name", "Buy-button text")
    page.fill("#hypothesis", "'Kjøp nå' gets more clicks than 'Add to cart'.")
    page.fill("#variant-0-name", "Add to cart")
    page.fill("#variant-0-payload", '{"text": "Add to cart"}')
    page.fill("#variant-1-key", "kjop-na")
    page.fill("#variant-1-name", "Kjøp nå")
    page.fill("#variant-1-payload", '{"text": "Kjøp nå"}')
    page.fill("#traffic", "0.5")
    page.fill("#condition-0-attribute", "country")
    page.select_option("#condition-0-op", "in")
    page.fill("#condition-0-value", "NO, SE")


def sdk_experiment(api: str, key: str) -> dict[str, Any] | None:
    config = httpx.get(f"{api}/v1/sdk/config", headers=SDK).json()
    found = [item for item in config["experiments"] if item["key"] == key]
    return found[0] if found else None


@pytest.mark.browser
@pytest.mark.processes
def test_an_editor_defines_starts_ramps_and_stops_a_cta_test(sqlite_url: str) -> None:
    with launch_chromium() as browser, running_api(sqlite_url) as api:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        log_in_as_editor(page, api, sqlite_url)
        page.click("#new-experiment")
        page.click("a[href='/experiments/new?template=cta']")
        assert page.eval_on_selector("#primary", "s => s.value") == "cta_click_rate"

        # A mistake is shown beside its field, with the API's path, and nothing is lost.
        fill_cta_form(page)
        page.fill("#variant-1-weight", "-1")
        page.click("button[value=save]:not(.visually-hidden)")
        assert "variants[1].weight must be > 0" in page.inner_text("#variant-1")
        assert page.input_value("#variant-1-payload") == '{"text": "Kjøp nå"}'
        assert page.get_attribute("#variant-1-weight", "aria-invalid") == "true"
        page.fill("#variant-1-weight", "1")

        # The plan asks for the traffic while there are no exposures.
        page.fill("#visitors_per_day", "4000")
        page.click("button[value=plan]")
        assert "visitors per variant: about" in page.inner_text("#plan")

        page.click("button[value=save]:not(.visually-hidden)")
        page.wait_for_url(f"{api}/experiments/buy-button")
        page.click("text=Start the experiment…")
        page.click("text=Yes, start it")
        page.wait_for_url(f"{api}/experiments/buy-button")

        wait_until(lambda: sdk_experiment(api, "buy-button"), 10, "the SDK config to serve it")
        served = sdk_experiment(api, "buy-button")
        assert served is not None and served["traffic"] == 0.5
        assert [v["payload"] for v in served["variants"]] == [
            {"text": "Add to cart"},
            {"text": "Kjøp nå"},
        ]
        assert served["targeting"] == {
            "all": [{"attribute": "country", "op": "in", "value": ["NO", "SE"]}]
        }
        assigned = [
            httpx.post(
                f"{api}/v1/assign",
                json={"unit_id": f"visitor-{n}", "attributes": {"country": "NO"}},
                headers=SDK,
            ).json()["assignments"]["buy-button"]
            for n in range(40)
        ]
        assert {a["payload"]["text"] for a in assigned if a["in_experiment"]} == {
            "Add to cart",
            "Kjøp nå",
        }
        outside = httpx.post(
            f"{api}/v1/assign",
            json={"unit_id": "visitor-1", "attributes": {"country": "DK"}},
            headers=SDK,
        ).json()["assignments"]["buy-button"]
        assert outside["in_experiment"] is False

        # Ramp up: lowering is refused beside the field, raising is served.
        page.click("#ramp-link")
        page.fill("#traffic", "0.2")
        page.click("text=Ramp it up")
        assert "may only grow" in page.inner_text("#traffic-error")
        page.fill("#traffic", "1")
        page.click("text=Ramp it up")
        page.wait_for_url(f"{api}/experiments/buy-button")
        wait_until(
            lambda: (sdk_experiment(api, "buy-button") or {}).get("traffic") == 1.0,
            10,
            "the ramp to be served",
        )

        # Stop with a winner: it is then served to everyone.
        page.click("text=Stop the experiment…")
        confirm_stop_of(page, api, "kjop-na")
        stored = httpx.get(f"{api}/v1/experiments/buy-button", headers=ADMIN).json()
        assert stored["status"] == "stopped" and stored["winner"] == "kjop-na"
        page.click("#history-link")
        history = page.inner_text("main")
        assert "stopped" in history and email_of("editor") in history
        context.close()


def confirm_stop_of(page: Any, api: str, winner: str) -> None:
    """`confirm_stop` for this test's experiment (its own waits for `exp`)."""
    page.select_option("#winner", winner)
    page.click("text=Yes, stop it")
    if page.locator("#caution").count():
        page.check("input[name=unproven]")
        page.fill("#reason", "the brand team chose the Norwegian text")
        page.click("text=Yes, stop it")
    page.wait_for_url(f"{api}/experiments/buy-button")


@pytest.mark.browser
@pytest.mark.processes
def test_the_form_by_keyboard_and_on_a_phone(sqlite_url: str) -> None:
    with launch_chromium() as browser, running_api(sqlite_url) as api:
        context = browser.new_context(viewport={"width": 375, "height": 812})
        page = context.new_page()
        log_in_as_editor(page, api, sqlite_url)
        for path in (
            "/experiments/new?template=checkout",
            "/catalogue",
            "/webhooks",
            "/keys",
            "/audit",
        ):
            page.goto(f"{api}{path}")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, path
        page.goto(f"{api}/experiments/new?template=cta")
        # Every field has a label; Tab moves through the form in reading order.
        unlabelled = page.evaluate(
            "() => [...document.querySelectorAll(FIELDS)]"
            ".filter(e => !e.labels || e.labels.length === 0).map(e => e.id)".replace(
                "FIELDS", "'main input:not([type=hidden]), main select, main textarea'"
            )
        )
        assert unlabelled == []
        page.focus("#key")
        order = []
        for _ in range(5):
            page.keyboard.press("Tab")
            order.append(page.evaluate("document.activeElement.id"))
        assert order == ["name", "hypothesis", "unit_type", "variant-0-key", "variant-0-name"]
        # With its script, the plan follows the design as it is typed (no reload).
        page.fill("#visitors_per_day", "4000")
        page.fill("#d-mde_relative", "0.2")
        page.wait_for_selector("#plan-sentence:has-text('days at the traffic you entered')")
        assert page.url.endswith("/experiments/new?template=cta")
        # Enter in a field saves (the form's default button), it never adds a row.
        page.fill("#key", "by-keyboard")
        page.fill("#name", "By keyboard")
        page.focus("#name")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{api}/experiments/by-keyboard")
        assert httpx.get(f"{api}/v1/experiments/by-keyboard", headers=ADMIN).status_code == 200

        # 10 MB posted to a real server: the page says so beside the form, never a 5xx.
        cookies = {cookie["name"]: cookie["value"] for cookie in context.cookies()}
        with httpx.Client(base_url=api, cookies=cookies, timeout=30) as client:
            csrf = csrf_of(client.get("/catalogue").text)
            huge = client.post("/catalogue", data={"csrf": csrf, "name": "x" * 10_000_000})
            assert huge.status_code == 422
            assert "is too large: the server takes at most" in huge.text
            assert client.get("/catalogue").status_code == 200  # the connection is still usable
        context.close()
