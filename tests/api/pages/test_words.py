"""The page in plain words, without contradictions: headers a marketer reads, each term
explained where it appears, the experiment's own unit, a newsletter read as a newsletter, and
no chart before two looks."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

from fastapi.testclient import TestClient

from api.pages.views import metric_tables
from experiments.results.page import ResultsPage
from experiments.settings import Settings
from tests.accounts import log_in
from tests.api.helpers import backdate_start, load_past_week, start_checkout
from tests.api.test_newsletter import counts, newsletter


def text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


def test_headers_and_terms_are_explained_and_units_named(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    key = start_checkout(client, admin_headers, key="plain")
    backdate_start(settings.database_url, key, timedelta(days=6))
    load_past_week(settings.database_url, key, 600, seed=5)
    log_in(client)
    html = client.get(f"/experiments/{key}").text
    for header in ("likely range", "chance it is better", "p-value", "visitors"):
        assert f">{header}</" in html, header
    assert "sequential interval" not in html and "seq. p" not in html
    assert '<abbr title="Where the true change lies' in html
    assert '<details id="glossary">' in html and "<dt>peeking-safe</dt>" in html
    assert "Significance level" in html and "5 % (a 95 % likely range)" in html
    # The page shows what decides and who is in it, as it will for a draft.
    assert "Purchase conversion (conversion_rate)" in html
    assert "100 % of visitors" in html and "<dt>Targeting</dt><dd>everyone</dd>" in html
    # One look is a point, not a line: no chart until there are two.
    served = client.get(f"/v1/experiments/{key}/results", headers=admin_headers).json()
    page = ResultsPage.model_validate(served)
    assert metric_tables(page, [page])[0].chart is None
    assert metric_tables(page, [page, page])[0].chart is not None


def test_a_chance_that_does_not_decide_says_why_in_its_cell(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    key = start_checkout(client, admin_headers, key="undecided")
    load_past_week(settings.database_url, key, 300, seed=6)
    page = client.get(f"/v1/experiments/{key}/results", headers=admin_headers).json()
    comparison = page["metrics"][0]["comparisons"][0]
    assert not comparison["sequential"]["significant"]
    log_in(client)
    html = client.get(f"/experiments/{key}").text
    assert ", not enough evidence yet to decide</td>" in html


def test_a_newsletter_reads_as_a_newsletter(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    body = newsletter(
        variants=[
            {"key": "control", "name": "Vårsalg", "weight": 1, "payload": {"text": "Kjøp nå"}},
            {"key": "subject-b", "name": "20 % av", "weight": 1},
        ]
    )
    assert client.post("/v1/experiments", json=body, headers=admin_headers).status_code == 201
    started = client.post("/v1/experiments/subject-line/start", headers=admin_headers)
    assert started.status_code == 200
    now = datetime.now(UTC)
    pasted = counts(now, 40, 72)
    posted = client.post("/v1/experiments/subject-line/counts", json=pasted, headers=admin_headers)
    assert posted.status_code == 201, posted.text
    api = client.get("/v1/experiments/subject-line/results", headers=admin_headers).json()
    assert api["display_state"] == "waiting_for_window"
    log_in(client)
    html = client.get("/experiments/subject-line").text
    heading = html[html.index('id="headline"') :].split("</p>", 1)[0].split(">", 1)[1]
    assert heading.startswith("Waiting for the attribution window (closes ")
    assert "Keep running" not in heading
    detect = api["decision"]["list"]["detectable_change"]
    assert detect is not None and detect > 0.2
    assert "or more (what your list can detect)" in html
    assert "<dd>10 %</dd>" not in html  # not the web default
    revenue = html[html.index('data-metric="revenue_per_recipient"') :].split("</table>")[0]
    assert "not pasted" in revenue and "0.00 NOK" not in revenue
    assert '{"text": "Kjøp nå"}' in text_of(html) and "\\u00f8" not in html
