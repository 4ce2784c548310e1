"""The workspace in real Chromium, as issue 24's "Done when" tries it: accounts made with
`vekst users create`; a marketer (editor) creates a CTA test from its template (two variants
with payloads, targeting, traffic, a plan for their traffic), starts it, and the SDK serves it;
ramps it, reads its results after the shop's events, and ships the winner, all on the pages; a
viewer reads the same pages and can change nothing; the history names who did what. The form is
also used by keyboard and at a phone's width."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from api.cli import build_cli
from tests import local_http
from tests.accounts import PASSWORD, add_user, log_in_page
from tests.api.pages.test_browser import ADMIN
from tests.api.pages.test_pages import csrf_of
from tests.api.pages.workspace.helpers import field_errors
from tests.browser import shared_chromium
from tests.conftest import SDK_KEY
from tests.live_server import serving_api
from tests.waiting import wait_until

SDK = {"Authorization": f"Bearer {SDK_KEY}"}
MARKETER = "marketer@shop.example"
COLLEAGUE = "colleague@shop.example"


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
    config = local_http.get(f"{api}/v1/sdk/config", headers=SDK).json()
    found = [item for item in config["experiments"] if item["key"] == key]
    return found[0] if found else None


def create_with_the_cli(database: str, role: str, email: str) -> None:
    """`vekst users create --role ROLE --email EMAIL`, the password on standard input."""
    arguments = ["users", "create", "--role", role, "--email", email]
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("VEKST_DATABASE_URL", database)
        made = CliRunner().invoke(build_cli(), arguments, input=PASSWORD + "\n")
    assert made.exit_code == 0, made.output


def the_shop_sends_events(api: str, visitors: int) -> None:
    """What the shop's SDK sends: an exposure per visitor, a click from some of them (more
    often for the Norwegian text)."""
    now = int(time.time() * 1000)
    events: list[dict[str, Any]] = []
    for n in range(visitors):
        variant = ("control", "kjop-na")[n % 2]
        unit = f"shopper-{n}"
        events.append(
            {"type": "exposure", "unit_id": unit, "experiment": "buy-button", "variant": variant}
            | {"timestamp": now}
        )
        if n % (3 if variant == "kjop-na" else 5) == 0:
            events.append({"type": "conversion", "unit_id": unit, "name": "cta_click"})
    sent = local_http.post(f"{api}/v1/events", json={"events": events}, headers=SDK)
    assert sent.status_code == 202, sent.text


@pytest.mark.browser
def test_a_marketer_defines_starts_ramps_reads_and_ships_a_cta_test(sqlite_url: str) -> None:
    create_with_the_cli(sqlite_url, "editor", MARKETER)
    create_with_the_cli(sqlite_url, "viewer", COLLEAGUE)
    with shared_chromium() as browser, serving_api(sqlite_url) as api:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        log_in_page(page, api, email=MARKETER)
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
        assert "visitors per variant (sized at the design" in page.inner_text("#plan")
        assert "last 14 days): about" in page.inner_text("#plan")

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
            local_http.post(
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
        outside = local_http.post(
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

        # The shop's events arrive; the marketer reads the results of a look taken now.
        the_shop_sends_events(api, 300)
        wait_until(lambda: "kjop-na: 150" in live_counts(page), 20, "the exposures to be stored")
        page.click("text=Take a new look now")
        page.wait_for_url(f"{api}/experiments/buy-button")
        clicks = "table[data-metric='cta_click_rate'] tbody tr"
        assert page.locator(clicks).count() == 2
        summary = page.inner_text("#summary")
        assert summary and "No look" not in page.inner_text("#headline")

        # Ship the winner: it is then served to everyone, whatever their country.
        page.click("text=Stop the experiment…")
        confirm_stop_of(page, api, "kjop-na")
        assert page.inner_text("#headline").startswith("Shipped kjop-na on ")
        shipped_summary = page.inner_text("#summary")
        wait_until(
            lambda: (sdk_experiment(api, "buy-button") or {}).get("status") == "stopped",
            10,
            "the stop to be served",
        )
        for visitor, country in (("visitor-1", "NO"), ("visitor-2", "DK"), ("new-one", "SE")):
            shipped = local_http.post(
                f"{api}/v1/assign",
                json={"unit_id": visitor, "attributes": {"country": country}},
                headers=SDK,
            ).json()["assignments"]["buy-button"]
            assert shipped["payload"] == {"text": "Kjøp nå"}, shipped
        context.close()

        # A colleague with the viewer role reads the same pages and can change nothing.
        viewer_context = browser.new_context(viewport={"width": 375, "height": 812})
        viewer = viewer_context.new_page()
        log_in_page(viewer, api, email=COLLEAGUE)
        viewer.click("text=Buy-button text")
        viewer.wait_for_url(f"{api}/experiments/buy-button")
        assert viewer.inner_text("#summary") == shipped_summary
        assert viewer.locator(clicks).count() == 2
        for path in ("/experiments/buy-button", "/experiments/buy-button/history", "/audit"):
            viewer.goto(f"{api}{path}")
            assert viewer.locator("form[method=post]").count() == 1, path  # the log-out only
            assert viewer.locator("#ramp-link, #edit-link, #new-experiment").count() == 0, path
        viewer.goto(f"{api}/account")  # the viewer's own form: a token of their session
        csrf = viewer.get_attribute("input[name=csrf]", "value") or ""
        for path, form in (
            ("/experiments/buy-button/ramp", {"traffic": "1"}),
            ("/experiments/buy-button/archive", {"confirm": "yes"}),
            ("/experiments/new", {"key": "sneaky", "name": "Sneaky"}),
        ):
            forged = viewer_context.request.post(f"{api}{path}", form={"csrf": csrf, **form})
            assert forged.status == 403, path

        # The history says who did what: every change is the marketer's.
        viewer.goto(f"{api}/experiments/buy-button/history")
        rows = viewer.eval_on_selector_all(
            "table.audit tbody tr",
            "rows => rows.map(r => [r.children[1].innerText, r.children[2].innerText])",
        )
        assert {action for action, _ in rows} >= {"created", "started", "updated", "stopped"}
        assert {who for _, who in rows} == {MARKETER}
        viewer_context.close()


def live_counts(page: Any) -> str:
    """The experiment page's "Arriving now" section, reloaded."""
    page.reload()
    return str(page.inner_text("#live"))


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
def test_the_form_by_keyboard_and_on_a_phone(sqlite_url: str) -> None:
    with shared_chromium() as browser, serving_api(sqlite_url) as api:
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
        assert local_http.get(f"{api}/v1/experiments/by-keyboard", headers=ADMIN).status_code == 200

        # 10 MB posted to a real server: the page says so beside the form, never a 5xx.
        cookies = {cookie["name"]: cookie["value"] for cookie in context.cookies()}
        with httpx.Client(base_url=api, cookies=cookies, timeout=30) as client:
            csrf = csrf_of(client.get("/catalogue").text)
            huge = client.post("/catalogue", data={"csrf": csrf, "name": "x" * 10_000_000})
            assert huge.status_code == 422
            assert field_errors(huge.text)["name"].startswith("is too large: the server takes")
            assert client.get("/catalogue").status_code == 200  # the connection is still usable
        context.close()
