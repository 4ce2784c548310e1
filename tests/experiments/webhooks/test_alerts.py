"""Which changes between two looks raise which alerts."""

from __future__ import annotations

import json

from experiments.models.webhook import AlertKind
from experiments.webhooks.alerts import Alert, LookFacts, alerts_between
from experiments.webhooks.store import message
from tests.experiments.results.pages import a_metric, a_page

QUIET = LookFacts("keep_running", (), srm=False, several_variants_share=0.0)


def kinds(previous: LookFacts | None, current: LookFacts) -> list[AlertKind]:
    return [alert.kind for alert in alerts_between(previous, current)]


def test_a_quiet_look_raises_nothing() -> None:
    assert kinds(None, QUIET) == []
    assert kinds(QUIET, QUIET) == []


def test_verdict_changes_alert_including_a_first_look_that_decides() -> None:
    ship = LookFacts("ship", (), srm=False, several_variants_share=0.0)
    assert kinds(None, ship) == [AlertKind.VERDICT_CHANGED]
    assert kinds(QUIET, ship) == [AlertKind.VERDICT_CHANGED]
    assert kinds(ship, ship) == []
    [alert] = alerts_between(QUIET, ship)
    assert alert.headline == "The verdict changed from keep running to ship."


def test_problems_alert_when_they_appear_not_while_they_last() -> None:
    harmed = LookFacts("stop", ("refund_rate:b",), srm=True, several_variants_share=0.02)
    assert kinds(QUIET, harmed) == [
        AlertKind.VERDICT_CHANGED,
        AlertKind.GUARDRAIL_HARMED,
        AlertKind.SRM_DETECTED,
        AlertKind.DATA_QUALITY,
    ]
    assert kinds(harmed, harmed) == []
    worse = LookFacts("stop", ("refund_rate:b", "refund_rate:c"), True, 0.03)
    assert [a.headline for a in alerts_between(harmed, worse)] == [
        "Variant c harmed guardrail refund_rate."
    ]


def test_facts_round_trip_through_json() -> None:
    facts = LookFacts("inconclusive", ("cart_abandonment:b",), srm=True, several_variants_share=0.5)
    assert LookFacts.from_dict(facts.to_dict()) == facts
    assert facts.data_quality
    assert not QUIET.data_quality


def test_an_effect_that_starts_changing_over_time_alerts_once() -> None:
    changing = LookFacts("keep_running", (), False, 0.0, changing=("conversion_rate:b",))
    [alert] = alerts_between(QUIET, changing)
    assert alert.kind is AlertKind.EFFECT_CHANGING
    assert alert.headline == "The effect of variant b on conversion_rate is changing over time."
    assert kinds(changing, changing) == []
    assert LookFacts.from_dict(changing.to_dict()) == changing


def test_facts_stored_before_the_changing_effect_still_load() -> None:
    older = {"verdict": "ship", "harmed": [], "srm": False, "several_variants_share": 0.0}
    assert LookFacts.from_dict(older).changing == ()


def test_a_stopped_experiments_message_leads_with_what_was_done() -> None:
    summary = "Shipped one-page on 5 December 2026. At the stop the data said: Keep running."
    outcome = {"stopped_at": "2026-12-05T10:00:00+00:00", "winner": "one-page"}
    decision = {"verdict": "keep_running", "variant": None, "reason": "", "outcome": outcome}
    page = a_page(
        [a_metric({"multi-step": 900, "one-page": 910}, [])],
        experiment="checkout",
        look=3,
        computed_at="2026-12-05T10:00:00+00:00",
        as_of="2026-12-05T10:00:00+00:00",
        decision=decision,
        summary=summary,
    ).as_json()
    body = json.loads(message(page, Alert(AlertKind.VERDICT_CHANGED, "The verdict changed.")))
    assert body["display_state"] == "shipped"
    assert body["state"] == "Shipped one-page on 5 December 2026"
    assert body["verdict"] == "keep_running"
    assert body["text"].startswith("Vekst, experiment checkout (look 3): Shipped one-page on 5 ")
