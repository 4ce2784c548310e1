"""Which changes between two looks raise which alerts."""

from __future__ import annotations

from dataclasses import replace

from experiments.models.webhook import AlertKind
from experiments.results.alerts import LookFacts, MetricVariant, SegmentCell, alerts_between
from experiments.results.types import Verdict

QUIET = LookFacts(Verdict.KEEP_RUNNING, (), srm=False, several_variants_share=0.0)


def kinds(previous: LookFacts | None, current: LookFacts) -> list[AlertKind]:
    return [alert.kind for alert in alerts_between(previous, current)]


def test_a_quiet_look_raises_nothing() -> None:
    assert kinds(None, QUIET) == []
    assert kinds(QUIET, QUIET) == []


def test_verdict_changes_alert_including_a_first_look_that_decides() -> None:
    ship = LookFacts(Verdict.SHIP, (), srm=False, several_variants_share=0.0)
    assert kinds(None, ship) == [AlertKind.VERDICT_CHANGED]
    assert kinds(QUIET, ship) == [AlertKind.VERDICT_CHANGED]
    assert kinds(ship, ship) == []
    [alert] = alerts_between(QUIET, ship)
    assert alert.headline == "The verdict changed from keep running to ship."


def test_problems_alert_when_they_appear_not_while_they_last() -> None:
    harmed = LookFacts(
        Verdict.STOP, (MetricVariant("refund_rate", "b"),), srm=True, several_variants_share=0.02
    )
    assert kinds(QUIET, harmed) == [
        AlertKind.VERDICT_CHANGED,
        AlertKind.GUARDRAIL_HARMED,
        AlertKind.SRM_DETECTED,
        AlertKind.DATA_QUALITY,
    ]
    assert kinds(harmed, harmed) == []
    worse = LookFacts(
        Verdict.STOP,
        (MetricVariant("refund_rate", "b"), MetricVariant("refund_rate", "c")),
        True,
        0.03,
    )
    assert [a.headline for a in alerts_between(harmed, worse)] == [
        "Variant c harmed guardrail refund_rate."
    ]


def test_facts_round_trip_through_json() -> None:
    facts = LookFacts(Verdict.INCONCLUSIVE, (MetricVariant("cart_abandonment", "b"),), True, 0.5)
    assert LookFacts.from_dict(facts.to_dict()) == facts
    assert facts.to_dict()["harmed"] == ["cart_abandonment:b"]  # the JSON looks are stored with
    assert facts.data_quality
    assert not QUIET.data_quality


def test_an_effect_that_starts_changing_over_time_alerts_once() -> None:
    changing = LookFacts(
        Verdict.KEEP_RUNNING, (), False, 0.0, changing=(MetricVariant("conversion_rate", "b"),)
    )
    [alert] = alerts_between(QUIET, changing)
    assert alert.kind is AlertKind.EFFECT_CHANGING
    assert alert.headline == "The effect of variant b on conversion_rate is changing over time."
    assert kinds(changing, changing) == []
    assert LookFacts.from_dict(changing.to_dict()) == changing


def test_facts_stored_before_the_changing_effect_still_load() -> None:
    older = {"verdict": "ship", "harmed": [], "srm": False, "several_variants_share": 0.0}
    assert LookFacts.from_dict(older).changing == ()


def test_a_segment_that_differs_alerts_once_for_both_sides_of_a_two_level_dimension() -> None:
    both = (
        SegmentCell("device", "mobile", "b", "desktop"),
        SegmentCell("device", "desktop", "b", "mobile"),
    )
    found = LookFacts(Verdict.KEEP_RUNNING, (), False, 0.0, segments=both)
    [alert] = alerts_between(QUIET, found)
    assert alert.kind is AlertKind.SEGMENT_DIFFERS
    assert alert.headline == (
        "The effect of variant b on device mobile differs from its effect on desktop "
        "(exploratory: the verdict stands)."
    )
    assert kinds(found, found) == []
    assert LookFacts.from_dict(found.to_dict()) == found
    market = replace(found, segments=(*both, SegmentCell("market", "SE", "b", None)))
    [later] = alerts_between(found, market)
    assert later.headline.endswith(
        "on market SE differs from its effect in the rest of the units "
        "(exploratory: the verdict stands)."
    )
