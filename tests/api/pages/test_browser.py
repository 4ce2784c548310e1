"""The results page in real headless Chromium: login, the same numbers as the API, the chart,
nothing fetched from elsewhere, a phone's width, and stopping the experiment from the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from experiments.db import make_engine
from experiments.results.page import MetricPage
from experiments.results.words.tables import metric_rows
from tests import local_http
from tests.accounts import PASSWORD, add_user, log_in_page
from tests.browser import shared_chromium
from tests.conftest import ADMIN_KEY
from tests.experiments.results.simulation import simulate_shop
from tests.live_server import serving_api

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
CHECKOUT = {
    "key": "exp",
    "name": "One-page checkout",
    "template": "checkout",
    "hypothesis": "A one-page checkout converts more visitors than the multi-step one.",
    "variants": [
        {"key": "control", "name": "Multi-step", "weight": 1, "payload": {"steps": 3}},
        {"key": "treatment", "name": "One-page", "weight": 1, "payload": {"steps": 1}},
    ],
    "design": {"planned_units_per_variant": 2000},
}


#: Days the filled experiment has run: its first look backfills one look per day since its first
#: exposure, one at a time for the checkout's percentile-capped revenue, so a traffic started
#: months ago (the simulation's own START) made that look take most of each page test.
DAYS_RUN = 12


def filled_experiment(api: str, database_url: str) -> None:
    """The checkout experiment, started `DAYS_RUN` days ago, with the simulated traffic's events
    since then.

    Every simulated event falls within ten days of the start, so all are counted at the look
    taken now whatever the hour: the figures are the same on every run. A dozen daily looks
    still give the chart its line and the sequential readings their history, and the look says
    what it said after 180 (a ship, in the same summary). The long version is
    `benchmarks/bench_capped_backfill.py`."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=DAYS_RUN)
    local_http.post(f"{api}/v1/experiments", json=CHECKOUT, headers=ADMIN).raise_for_status()
    local_http.post(f"{api}/v1/experiments/exp/start", headers=ADMIN).raise_for_status()
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE experiments SET started_at = :start WHERE key = 'exp'"),
                {"start": start.replace(tzinfo=None)},
            )
        simulate_shop(4000, uplift=0.8, seed=21, start=start).load(engine)
    finally:
        engine.dispose()


@pytest.mark.browser
def test_results_page_in_chromium(sqlite_url: str, tmp_path: Path) -> None:
    with shared_chromium() as browser, serving_api(sqlite_url) as api:
        filled_experiment(api, sqlite_url)
        results = fresh_results(api)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))

        page.goto(f"{api}/experiments/exp")
        assert page.url == f"{api}/login"  # no session yet
        add_user(sqlite_url, "editor")
        log_in_page(page, api, "editor")
        assert PASSWORD not in page.content()
        (cookie,) = [c for c in context.cookies() if c["name"] == "vekst_session"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert PASSWORD not in cookie["value"]
        page.click("text=One-page checkout")
        page.wait_for_url(f"{api}/experiments/exp")

        # The same look as the API: verdict, summary and the primary metric's figures.
        assert (
            page.get_attribute("[data-verdict]", "data-verdict") == results["decision"]["verdict"]
        )
        assert page.inner_text("#summary") == results["summary"]
        primary = results["metrics"][0]
        typed = MetricPage.model_validate(primary)
        expected_rows, _ = metric_rows(typed, results["currency"])
        shown = page.eval_on_selector_all(
            f"table[data-metric='{primary['metric']}'] tbody tr",
            "rows => rows.map(r => [...r.children].map(c => c.innerText.trim()))",
        )
        assert shown == expected_rows
        # The chart has real size and a line per compared variant.
        box = page.locator("#primary-chart svg").bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100
        assert page.locator("#primary-chart svg path[stroke-width='2.5']").count() == 1
        page.screenshot(path=str(tmp_path / "results-desktop.png"), full_page=True)

        # A phone: nothing wider than the screen.
        page.set_viewport_size({"width": 375, "height": 812})
        page.reload()
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        page.screenshot(path=str(tmp_path / "results-phone.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})

        # Stop from the page, shipping the treatment, behind a confirmation.
        page.click("text=Stop the experiment")
        page.wait_for_url(f"{api}/experiments/exp/stop")
        confirm_stop(page, api, "treatment")
        stopped = local_http.get(f"{api}/v1/experiments/exp", headers=ADMIN).json()
        assert stopped["status"] == "stopped"
        assert page.inner_text("#headline").startswith("Shipped treatment on ")
        page.screenshot(path=str(tmp_path / "results-stopped.png"), full_page=True)

        assert requested and all(url.startswith(api) for url in requested), requested
        context.close()


def confirm_stop(page: Any, api: str, winner: str) -> None:
    """On the stop page: choose `winner` and confirm, with a reason when the page asks for a
    second confirmation (a winner not shown better); wait for the experiment's page."""
    page.select_option("#winner", winner)
    page.click("text=Yes, stop it")
    if page.locator("#caution").count():
        page.check("input[name=unproven]")
        page.fill("#reason", "the one-page design is our standard now")
        page.click("text=Yes, stop it")
    page.wait_for_url(f"{api}/experiments/exp")


def fresh_results(api: str) -> dict[str, Any]:
    """The filled experiment's results, with a new look taken now."""
    results: dict[str, Any] = local_http.get(
        f"{api}/v1/experiments/exp/results",
        headers=ADMIN,
        params={"fresh": "true"},
        timeout=60,  # the first look backfills a look per day
    ).json()
    return results
