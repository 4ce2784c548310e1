"""Sends to a fixed list: what the list can detect, waiting for the attribution window, and the
variant to send to the rest in test-then-send mode."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from experiments.metrics import builtin_metrics
from experiments.models.experiment import Design
from experiments.planning import list_units_per_variant
from experiments.results.readings.metric_analysis import analyse_metric
from experiments.results.sums.aggregation import VariantSums
from experiments.results.types import Decision, MetricResult, Verdict
from experiments.results.verdict.decision import Blockers, PlanProgress, decide
from experiments.results.verdict.fixed_list import decide_for_list, list_plan, send_advice
from experiments.results.words.summary_sentence import SummaryTerms, summarise
from stats import AnalysisOptions, RatioStats, detectable_effect

CLICKS = builtin_metrics()["newsletter_click_rate"]
SENT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DESIGN = Design(population=20_000, test_share=0.2, attribution_hours=72, baseline_rate=0.03)
WORDS = SummaryTerms("subscriber", "NOK")


def clicks(control: int, variant: int, sent: int = 2000) -> dict[str, VariantSums]:
    def sums(c: int) -> VariantSums:
        return VariantSums(RatioStats(sent, float(c), float(c), float(sent), float(sent), float(c)))

    return {"control": sums(control), "subject-b": sums(variant)}


def primary(control: int, variant: int) -> tuple[MetricResult, Decision]:
    options = AnalysisOptions(
        0.05, weights=(1.0, 1.0), planned_units_per_variant=list_units_per_variant(DESIGN, 2)
    )
    result = analyse_metric(CLICKS, "primary", clicks(control, variant), options)
    # As a web test would see it: 5,000 planned, 2,000 so far, 400 new units a day.
    plan = PlanProgress(5000, 2000, 2, 400.0)
    return result, decide(result, [], Blockers(False, 0.0), plan)


def test_the_list_plan_says_what_the_list_can_detect() -> None:
    plan = list_plan(DESIGN, CLICKS, None, 2, SENT)
    assert plan is not None
    assert plan.units_per_variant == 2000  # a fifth of 20,000, split in two
    assert plan.window_closes_at == SENT + timedelta(hours=72)
    expected = detectable_effect(units_per_variant=2000, baseline_rate=0.03, variants=2)
    assert plan.detectable_change == pytest.approx(expected.mde_relative)
    assert list_plan(Design(), CLICKS, 0.03, 2, SENT) is None


def test_the_verdict_waits_for_the_window_then_never_asks_for_more_days() -> None:
    result, decision = primary(60, 64)
    assert decision.verdict is Verdict.KEEP_RUNNING  # a web test would ask for more units
    plan = list_plan(DESIGN, CLICKS, 0.03, 2, SENT)
    assert plan is not None
    early = decide_for_list(decision, plan, SENT + timedelta(hours=20))
    assert early.verdict is Verdict.KEEP_RUNNING and early.wait_until == plan.window_closes_at
    assert early.additional_units_per_variant is None and early.additional_days is None
    closed = decide_for_list(decision, plan, SENT + timedelta(hours=73))
    assert closed.verdict is Verdict.INCONCLUSIVE


def test_test_then_send_names_the_winner_and_the_extra_clicks() -> None:
    result, decision = primary(60, 110)
    assert decision.verdict is Verdict.SHIP
    plan = list_plan(DESIGN, CLICKS, 0.03, 2, SENT)
    assert plan is not None
    closed = decide_for_list(decision, plan, SENT + timedelta(hours=80))
    advice = send_advice(closed, plan, result, CLICKS)
    assert advice is not None
    assert (advice.variant, advice.clearly_better, advice.remaining_units) == (
        "subject-b",
        True,
        16_000,
    )
    # (110 - 60) / 2000 more clicks per recipient, for the 16,000 not in the test.
    assert advice.expected_extra == pytest.approx(16_000 * 50 / 2000)
    text = summarise(replace(closed, list_plan=plan, send=advice), result, [], "control", (), WORDS)
    assert "Send subject-b to the 16,000 remaining subscribers: about 400 more clicks" in text
    assert "Keep running" not in text and "days" not in text


def test_without_a_clear_winner_the_best_observed_is_named_with_a_caveat() -> None:
    result, decision = primary(60, 70)
    plan = list_plan(DESIGN, CLICKS, 0.03, 2, SENT)
    assert plan is not None
    closed = decide_for_list(decision, plan, SENT + timedelta(hours=80))
    advice = send_advice(closed, plan, result, CLICKS)
    assert advice is not None and advice.variant == "subject-b" and not advice.clearly_better
    worse, worse_decision = primary(70, 60)
    closed = decide_for_list(worse_decision, plan, SENT + timedelta(hours=80))
    keep = send_advice(closed, plan, worse, CLICKS)
    assert keep is not None and keep.variant == "control"
