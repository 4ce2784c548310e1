"""The stopped and the newsletter pages in real Chromium, read as a marketer reads them: what
was done first, the verdict restated on the stop form, plain headers with explanations, the
reading first on a phone, and a newsletter that waits for its window without contradictions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests import local_http
from tests.accounts import add_user, log_in_page
from tests.api.pages.test_browser import (
    ADMIN,
    confirm_stop,
    filled_experiment,
    fresh_results,
)
from tests.api.test_newsletter import counts, newsletter
from tests.browser import shared_chromium
from tests.live_server import serving_api


@pytest.mark.browser
def test_a_marketer_reads_the_stopped_and_the_newsletter_pages(sqlite_url: str) -> None:
    with shared_chromium() as browser, serving_api(sqlite_url) as api:
        filled_experiment(api, sqlite_url)
        results = fresh_results(api)
        letter = newsletter(
            variants=[
                {"key": "control", "name": "Vårsalg", "weight": 1, "payload": {"text": "Kjøp nå"}},
                {"key": "subject-b", "name": "20 % av", "weight": 1},
            ]
        )
        local_http.post(f"{api}/v1/experiments", json=letter, headers=ADMIN).raise_for_status()
        local_http.post(
            f"{api}/v1/experiments/subject-line/start", headers=ADMIN
        ).raise_for_status()
        pasted = counts(datetime.now(UTC), 40, 72)
        local_http.post(
            f"{api}/v1/experiments/subject-line/counts", json=pasted, headers=ADMIN
        ).raise_for_status()
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        add_user(sqlite_url, "editor")
        log_in_page(page, api, "editor")

        # The stop form restates the verdict and chooses the winner it names.
        page.goto(f"{api}/experiments/exp/stop")
        assert page.inner_text("#verdict-restated").startswith("The data says: ")
        decision = results["decision"]
        named = decision["variant"] if decision["verdict"] == "ship" else ""
        assert page.eval_on_selector("#winner", "select => select.value") == named
        confirm_stop(page, api, "treatment")

        # What was done leads; what the data said comes second.
        stopped = local_http.get(f"{api}/v1/experiments/exp", headers=ADMIN).json()
        on = datetime.fromisoformat(stopped["stopped_at"])
        shipped = f"Shipped treatment on {on.day} {on:%B %Y}"
        assert page.inner_text("#headline") == shipped
        assert page.inner_text("#data-said").startswith("At the stop the data said: ")
        assert page.inner_text("#summary").startswith(f"{shipped}. At the stop the data said:")
        assert "the final look, taken at the stop" in page.inner_text("#freshness")
        headers = page.eval_on_selector_all(
            "table.readings thead th", "cells => cells.map(c => c.innerText.trim())"
        )
        assert headers[:7] == [
            "variant",
            "visitors",
            "value",
            "change",
            "likely range",
            "p-value",
            "chance it is better",
        ]
        titles = page.eval_on_selector_all(
            "table.readings thead abbr", "marks => marks.map(m => m.textContent + ': ' + m.title)"
        )
        assert any(t.startswith("likely range: Where the true change lies") for t in titles)
        assert "sequential interval" not in page.content()
        page.click("#glossary summary")
        assert "Valid however often you read the results" in page.inner_text("#glossary")

        # On a phone each variant is a card that leads with its reading.
        page.set_viewport_size({"width": 375, "height": 812})
        page.reload()
        row = page.locator("table.readings").first.locator("tbody tr").nth(1)
        reading = row.locator("td.reading").bounding_box()
        value = row.locator("td").nth(1).bounding_box()
        assert reading is not None and value is not None
        assert reading["y"] < value["y"] and reading["x"] + reading["width"] <= 375
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        page.set_viewport_size({"width": 1280, "height": 900})

        page.goto(f"{api}/")
        assert shipped in page.inner_text("tbody tr:has-text('One-page checkout')")

        # The newsletter waits for its window, and says what its list can detect.
        page.goto(f"{api}/experiments/subject-line")
        heading = page.inner_text("#headline")
        assert heading.startswith("Waiting for the attribution window (closes ")
        design = page.inner_text("#design")
        assert "or more (what your list can detect)" in design and "subscribers" in design
        revenue = page.inner_text("table[data-metric='revenue_per_recipient']")
        assert "not pasted" in revenue and "0.00 NOK" not in revenue
        assert '{"text": "Kjøp nå"}' in page.inner_text("main")
        assert page.locator("svg").count() == 0  # one look: no chart yet

        # A mistyped address is a page with a way back.
        page.goto(f"{api}/experiments/no-such-test")
        assert page.inner_text("h1") == "Not found"
        page.click("text=All experiments")
        page.wait_for_url(f"{api}/")
        context.close()
