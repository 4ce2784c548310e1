"""The holdouts on the page: the list, one holdout's results from its stored look (never one
taken by a view), its covered experiments and power, an editor's "take a new look now", and
hostile keys answered with a 4xx. SQLite only: the queries are the API's, tested on both."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import escape, unescape

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from experiments.db import session_scope
from experiments.results.snapshots import latest_snapshot
from experiments.settings import Settings, load_settings
from tests.accounts import log_in
from tests.api.helpers import running_experiment
from tests.api.pages.test_pages import csrf_of
from tests.api.pages.workspace.helpers import token
from tests.conftest import ADMIN_KEY, SDK_KEY
from tests.experiments.results.simulation import RawEvents

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
NAME = "Spring <script>alert(1)</script> holdout"
UNITS = 120  # per group


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    return load_settings(
        database_url=sqlite_url, admin_key=ADMIN_KEY, sdk_key=SDK_KEY, start_scheduler=False
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def visible(html: str) -> str:
    """The page's text as read: tags (such as a term's explanation) dropped, entities read."""
    return unescape(re.sub(r"<[^>]+>", "", html))


def create_holdout(client: TestClient, key: str = "spring") -> None:
    body = {
        "key": key,
        "name": NAME,
        "share": 0.05,
        "experiments": "all_new",
        "metrics": ["revenue_per_visitor", "conversion_rate"],
        "ends_at": (datetime.now(UTC) + timedelta(days=90)).isoformat(),
    }
    response = client.post("/v1/holdouts", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text


def load_groups(client: TestClient) -> None:
    """Both groups' holdout exposures over the last hour, the measurement group buying more."""
    raw, start = RawEvents(), datetime.now(UTC) - timedelta(hours=1)
    for index in range(UNITS):
        for group, buys_every in (("holdout", 4), ("measurement", 3)):
            unit = f"{group}-{index}"
            raw.expose(unit, group, start + timedelta(seconds=index), experiment="spring")
            if index % buys_every == 0:
                raw.convert(unit, "purchase", start + timedelta(seconds=index + 60), 600.0)
    raw.load(client.app.state.engine)  # type: ignore[attr-defined]


def test_before_its_first_look_the_page_says_so_and_a_view_takes_none(client: TestClient) -> None:
    create_holdout(client)
    running_experiment(client, ADMIN, key="checkout-onepage")
    log_in(client, "viewer")
    listing = client.get("/holdouts")
    assert listing.status_code == 200
    assert '<a href="/holdouts">Holdouts</a>' in listing.text  # in the workspace navigation
    assert escape(NAME) in listing.text and NAME not in listing.text
    assert "every new visitor experiment (1 experiment so far)" in listing.text
    assert "no look yet" in listing.text
    page = client.get("/holdouts/spring")
    assert page.status_code == 200 and escape(NAME) in page.text and "<script>" not in page.text
    assert "No look yet: this holdout has no results" in page.text
    assert "No traffic in the last 14 days yet, so what a 5 % holdout detects" in page.text
    assert 'data-experiment="checkout-onepage"' in page.text
    assert "running, nothing shipped yet" in page.text
    assert "Take a new look now" not in page.text  # a viewer takes none
    with session_scope(client.app.state.engine) as session:  # type: ignore[attr-defined]
        assert latest_snapshot(session, "spring") is None  # the views took no look
    refused = client.post("/holdouts/spring/looks", data={"csrf": "any"})
    assert refused.status_code == 403  # the role is checked first
    client.post("/v1/holdouts/spring/stop", headers=ADMIN)
    log_in(client, "editor")
    page = client.get("/holdouts/spring")
    assert "Take a new look now" not in page.text and "(spring, holdout, stopped)" in page.text
    stopped = client.post("/holdouts/spring/looks", data={"csrf": token(client)})
    assert stopped.status_code == 409  # only a running holdout takes new looks


def test_the_page_shows_the_stored_look_its_readings_and_what_shipped(client: TestClient) -> None:
    create_holdout(client)
    for key in ("checkout-onepage", "cta-green"):
        running_experiment(client, ADMIN, key=key)
    stop = client.post(
        "/v1/experiments/checkout-onepage/stop", json={"winner": "one-page"}, headers=ADMIN
    )
    assert stop.status_code == 200, stop.text
    load_groups(client)
    log_in(client, "editor")
    page = client.get("/holdouts/spring")
    assert "No look yet" in page.text and "Take a new look now" in page.text
    taken = client.post(
        "/holdouts/spring/looks", data={"csrf": csrf_of(page.text)}, follow_redirects=False
    )
    assert taken.status_code == 303 and taken.headers["location"] == "/holdouts/spring"
    page = client.get("/holdouts/spring")
    api = client.get("/v1/holdouts/spring/results", headers=ADMIN).json()
    assert api["summary"] in visible(page.text)  # the API's summary, from the same look
    assert api["summary"].startswith("The 1 experiment shipped since ")
    assert f"{UNITS} units held out, {UNITS} measured, as drawn" in page.text
    assert f"<td>{UNITS:,}</td>" in page.text  # each group's units
    for metric in ("revenue_per_visitor", "conversion_rate"):
        assert f'data-metric="{metric}"' in page.text  # the experiment page's tables
    # Look 1, or 2 between midnight and 1 am UTC: the hour of events then crosses midnight, and
    # the first look backfills a look at that day boundary.
    number = api["look"]["look"]
    assert number in (1, 2) and f"Look {number}, as of" in visible(page.text)
    assert escape(api["power"]["text"]) in page.text
    assert "shipped one-page" in page.text and "running, nothing shipped yet" in page.text
    listing = client.get("/holdouts")
    assert f"holdout {UNITS:,} / measurement {UNITS:,}" in listing.text


HOSTILE = {
    "/holdouts/nope": 404,
    "/holdouts/Not%20A%20Slug": 422,
    "/holdouts/a%00b": 422,
    "/holdouts/%ED%A0%80": 422,  # a lone surrogate
    "/holdouts/" + "k" * 5000: 422,
}


def test_hostile_keys_get_a_4xx_page(client: TestClient) -> None:
    for path in HOSTILE:
        assert client.get(path, follow_redirects=False).status_code == 303  # the login first
    log_in(client, "viewer")
    for path, code in HOSTILE.items():
        response = client.get(path, headers={"Accept": "text/html"})
        assert response.status_code == code, path
    missing = client.get("/holdouts/nope", headers={"Accept": "text/html"}).text
    assert "no holdout with key 'nope'" in visible(missing)
