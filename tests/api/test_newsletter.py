"""A newsletter test as an e-mail team runs it: a fixed list, a fifth of it in the test, counts
pasted from the e-mail tool, a reading once the attribution window has closed, and the subject
to send to the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from experiments.db import make_engine
from experiments.settings import Settings
from stats import analyze
from tests.api.helpers import assert_close, equal_split_body

KEY = "subject-line"
DESIGN = {"population": 20_000, "test_share": 0.2, "attribution_hours": 72, "baseline_rate": 0.03}


def newsletter(**changes: Any) -> dict[str, Any]:
    """The subject-line test's create body, `changes` added or replacing fields."""
    subjects = {"control": "Spring sale", "subject-b": "20 % off until Sunday"}
    body = equal_split_body(KEY, "Spring sale subject line", "newsletter", subjects)
    return {**body, "design": DESIGN, **changes}


def sent_days_ago(
    client: TestClient,
    headers: dict[str, str],
    settings: Settings,
    design: dict[str, Any] | None = None,
) -> datetime:
    """Create and start the test, then move its start (the send) four days back."""
    body = newsletter() if design is None else newsletter(design=design)
    created = client.post("/v1/experiments", json=body, headers=headers)
    assert created.status_code == 201, created.text
    # Only the test share is split into variants.
    assert created.json()["traffic"] == body["design"].get("test_share", 1.0)
    assert created.json()["unit_type"] == "subscriber"
    assert client.post(f"/v1/experiments/{KEY}/start", headers=headers).status_code == 200
    sent = datetime.now(UTC) - timedelta(days=4)
    engine = make_engine(settings.database_url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE experiments SET started_at = :sent WHERE key = :key"),
            {"sent": sent.replace(tzinfo=None), "key": KEY},
        )
    engine.dispose()
    return sent


def counts(as_of: datetime, control: int, variant: int, **extra: Any) -> dict[str, Any]:
    return {
        "as_of": as_of.isoformat(),
        "variants": [
            {"key": "control", "sent": 2000, "opened": 500, "clicked": control, "unsubscribed": 4},
            {"key": "subject-b", "sent": 2000, "opened": 540, "clicked": variant, **extra},
        ],
    }


def test_subject_line_test_then_send(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    sent = sent_days_ago(client, admin_headers, settings)
    url = f"/v1/experiments/{KEY}"
    early = client.post(
        f"{url}/counts", json=counts(sent + timedelta(hours=20), 40, 72), headers=admin_headers
    )
    assert early.status_code == 201, early.text
    waiting = client.get(
        f"{url}/results",
        params={"as_of": (sent + timedelta(hours=30)).isoformat()},
        headers=admin_headers,
    ).json()
    assert waiting["source"] == "pasted_counts"
    assert waiting["decision"]["verdict"] == "keep_running"
    assert waiting["decision"]["wait_until"] is not None
    assert waiting["decision"]["additional_days"] is None
    assert "the verdict waits for it" in waiting["summary"]
    assert "more days" not in waiting["summary"]
    assert "your list can detect a change in newsletter click rate of" in waiting["summary"]

    final = counts(sent + timedelta(hours=75), 60, 110, unsubscribed=5)
    assert client.post(f"{url}/counts", json=final, headers=admin_headers).status_code == 201
    page = client.get(f"{url}/results", headers=admin_headers).json()
    decision = page["decision"]
    assert decision["verdict"] == "ship" and decision["decided_by"] == "sequential"
    assert decision["list"]["units_per_variant"] == 2000
    assert decision["send"]["variant"] == "subject-b"
    assert decision["send"]["remaining_units"] == 16_000
    assert decision["send"]["expected_extra"] == pytest.approx(16_000 * 50 / 2000)
    assert (
        "Send subject-b to the 16,000 remaining subscribers: about 400 more clicks"
        in page["summary"]
    )
    clicks = page["metrics"][0]
    assert [v["n"] for v in clicks["variants"]] == [2000, 2000]
    assert clicks["comparisons"][0]["outcome"] == "improved"
    unsubscribes = next(m for m in page["metrics"] if m["metric"] == "unsubscribe_rate")
    assert unsubscribes["role"] == "guardrail"
    # 4 and 5 unsubscribes in 2,000: nothing shown either way, and the page says so.
    assert unsubscribes["comparisons"][0]["guardrail"] == "no clear effect yet"
    assert "unsubscribe rate: no clear effect yet" in page["summary"]
    revenue = next(m for m in page["metrics"] if m["metric"] == "revenue_per_recipient")
    assert revenue["reason"] == "not_in_pasted_counts"
    assert "revenue" in revenue["reason_text"]

    # The history: one point per day, each from the newest paste up to that day.
    series = client.get(
        f"{url}/results/timeseries",
        params={"metric": "newsletter_click_rate"},
        headers=admin_headers,
    ).json()
    clicked = [
        [round((v["value"] or 0) * v["n"]) for v in point["variants"]] for point in series["points"]
    ]
    assert clicked[-1] == [60, 110]
    assert [40, 72] in clicked

    overview = client.get("/v1/experiments", params={"include": "results"}, headers=admin_headers)
    (item,) = overview.json()["items"]
    assert item["results"]["verdict"] == "ship"
    assert item["results"]["units"] == 4000
    assert item["results"]["days_running"] == pytest.approx(4.0, abs=0.1)


def test_pasted_revenue_with_its_spread_is_compared_like_raw_data(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    sent = sent_days_ago(client, admin_headers, settings)
    rng = np.random.default_rng(11)
    per_recipient = {
        key: np.where(rng.random(2000) < rate, rng.lognormal(6.3, 0.5, 2000), 0.0)
        for key, rate in (("control", 0.02), ("subject-b", 0.03))
    }
    body = {
        "as_of": (sent + timedelta(hours=80)).isoformat(),
        "variants": [
            {
                "key": key,
                "sent": 2000,
                "clicked": 80,
                "revenue": float(values.sum()),
                "revenue_sum_squares": float((values**2).sum()),
            }
            for key, values in per_recipient.items()
        ],
    }
    response = client.post(f"/v1/experiments/{KEY}/counts", json=body, headers=admin_headers)
    assert response.status_code == 201, response.text
    page = client.get(f"/v1/experiments/{KEY}/results", headers=admin_headers).json()
    revenue = next(m for m in page["metrics"] if m["metric"] == "revenue_per_recipient")
    assert revenue["value_format"] == "money"
    expected = analyze(
        "mean",
        [
            {"key": key, "n": 2000, "sum": values.sum(), "sum_squares": (values**2).sum()}
            for key, values in per_recipient.items()
        ],
        planned_units_per_variant=2000,
    ).comparisons[0]
    got = revenue["comparisons"][0]
    assert got["relative"]["estimate"] == pytest.approx(expected.relative.estimate, rel=1e-9)
    assert got["sequential"]["p_value"] == pytest.approx(expected.sequential.p_value, rel=1e-9)
    opened = next(m for m in page["metrics"] if m["metric"] == "newsletter_open_rate")
    assert opened["reason"] == "not_in_pasted_counts"  # "opened" was not pasted


BAD_COUNTS: list[tuple[list[dict[str, Any]], str]] = [
    ([{"key": "control", "sent": 10}, {"key": "subject-c", "sent": 10}], "variants[1].key"),
    ([{"key": "control", "sent": 10}, {"key": "control", "sent": 10}], "variants[1].key"),
    (
        [{"key": "control", "sent": 10, "clicked": 11}, {"key": "subject-b", "sent": 10}],
        "variants[0]",
    ),
    ([{"key": "control", "sent": -1}, {"key": "subject-b", "sent": 10}], "variants[0].sent"),
]
"""Counts of a variant the send lacks, a variant twice, more clicks than sends, negative
sends; each with the field its problem names."""


def test_bad_counts_name_the_field(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    sent_days_ago(client, admin_headers, settings)
    for variants, field in BAD_COUNTS:
        response = client.post(
            f"/v1/experiments/{KEY}/counts", json={"variants": variants}, headers=admin_headers
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert field in response.text, (variants, response.text)


def test_counts_need_a_started_newsletter_and_an_admin_key(
    client: TestClient, admin_headers: dict[str, str], sdk_headers: dict[str, str]
) -> None:
    body = {"variants": [{"key": "control", "sent": 10}, {"key": "subject-b", "sent": 10}]}
    assert (
        client.post("/v1/experiments", json=newsletter(), headers=admin_headers).status_code == 201
    )
    draft = client.post(f"/v1/experiments/{KEY}/counts", json=body, headers=admin_headers)
    assert draft.status_code == 409 and "has not started" in draft.json()["detail"]
    assert (
        client.post(f"/v1/experiments/{KEY}/counts", json=body, headers=sdk_headers).status_code
        == 403
    )
    checkout = newsletter(key="checkout-test", template="checkout", design={})
    assert client.post("/v1/experiments", json=checkout, headers=admin_headers).status_code == 201
    client.post("/v1/experiments/checkout-test/start", headers=admin_headers)
    refused = client.post("/v1/experiments/checkout-test/counts", json=body, headers=admin_headers)
    assert refused.status_code == 422 and "conversion_rate" in refused.json()["detail"]


def test_test_share_rules_name_the_field(client: TestClient, admin_headers: dict[str, str]) -> None:
    clash = client.post("/v1/experiments", json=newsletter(traffic=0.5), headers=admin_headers)
    assert clash.status_code == 422 and "traffic" in clash.text and "test_share" in clash.text
    no_list = newsletter(design={"test_share": 0.2})
    response = client.post("/v1/experiments", json=no_list, headers=admin_headers)
    assert response.status_code == 422 and "population" in response.text


def test_pasted_counts_read_like_the_same_send_fed_as_events(
    client: TestClient,
    admin_headers: dict[str, str],
    sdk_headers: dict[str, str],
    settings: Settings,
) -> None:
    # Same list size per variant for both, so both sequential tests are tuned alike.
    sent = sent_days_ago(client, admin_headers, settings, {"population": 600})
    fed = newsletter(key="subject-line-events", design={"population": 600})
    assert client.post("/v1/experiments", json=fed, headers=admin_headers).status_code == 201
    client.post("/v1/experiments/subject-line-events/start", headers=admin_headers)
    rng = np.random.default_rng(5)
    clicked = {"control": rng.random(300) < 0.05, "subject-b": rng.random(300) < 0.09}
    moment = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    events: list[dict[str, Any]] = []
    for variant, clicks_of in clicked.items():
        for number, click in enumerate(clicks_of):
            unit = f"{variant}-{number}"
            events.append(
                {
                    "type": "exposure",
                    "unit_id": unit,
                    "experiment": "subject-line-events",
                    "variant": variant,
                    "timestamp": moment,
                }
            )
            if click:
                events.append(
                    {
                        "type": "conversion",
                        "unit_id": unit,
                        "name": "newsletter_click",
                        "timestamp": moment,
                    }
                )
    answer = client.post("/v1/events", json={"events": events}, headers=sdk_headers)
    assert answer.status_code == 202 and answer.json()["rejected"] == [], answer.text
    pasted = {
        "as_of": (sent + timedelta(hours=1)).isoformat(),
        "variants": [
            {"key": key, "sent": 300, "clicked": int(values.sum())}
            for key, values in clicked.items()
        ],
    }
    assert (
        client.post(f"/v1/experiments/{KEY}/counts", json=pasted, headers=admin_headers).status_code
        == 201
    )
    from_counts = client.get(f"/v1/experiments/{KEY}/results", headers=admin_headers).json()
    from_events = client.get(
        "/v1/experiments/subject-line-events/results", headers=admin_headers
    ).json()
    assert from_counts["source"] == "pasted_counts" and from_events["source"] == "events"
    got, want = from_counts["metrics"][0], from_events["metrics"][0]
    assert got["variants"] == want["variants"]
    for name in ("relative", "sequential", "bayesian", "p_value", "outcome"):
        assert_close(got["comparisons"][0][name], want["comparisons"][0][name])
