"""Decision rules and summary sentences on sufficient statistics with known outcomes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from experiments.metrics import builtin_metrics
from experiments.results.readings.metric_analysis import analyse_metric
from experiments.results.render import metric_page
from experiments.results.sums.aggregation import VariantSums
from experiments.results.types import MetricIssue, MetricResult, Role, RunningReading, Verdict
from experiments.results.verdict.decision import Blockers, PlanProgress, decide
from experiments.results.words.summary_sentence import summarise
from stats import AnalysisOptions, Interval, RatioStats, analyze

METRICS = builtin_metrics()
OPTIONS = AnalysisOptions(alpha=0.05, weights=(1.0, 1.0), planned_units_per_variant=20_000)
NO_BLOCKERS = Blockers(srm=False, data_quality_share=0.0)
PLAN = PlanProgress(20_000, 10_000, 2, daily_units=2_000.0)


def rate(
    key: str,
    role: Role,
    control: tuple[int, int],
    treatment: tuple[int, int],
    margin: float | None = None,
) -> MetricResult:
    sums = _proportions(control, treatment)
    return analyse_metric(METRICS[key], role, sums, OPTIONS, margin)


def guardrail_flat(margin: float | None = None) -> MetricResult:
    return rate("refund_rate", "guardrail", (10_000, 50), (10_000, 52), margin)


def test_significant_improvement_ships_with_the_example_sentence() -> None:
    primary = rate("conversion_rate", "primary", (10_000, 250), (10_000, 420))
    decision = decide(primary, [guardrail_flat()], NO_BLOCKERS, PLAN)
    assert decision.verdict is Verdict.SHIP
    assert decision.variant == "treatment"
    summary = summarise(decision, primary, [guardrail_flat()], "control", ())
    assert summary.startswith("Variant treatment raised purchase conversion by 68 % (95 % CI ")
    assert summary.endswith(
        ". Guardrails: refund rate: no clear effect yet. Rules: refund rate must not be "
        "significantly worse. Ship treatment."
    )


def test_a_guardrail_margin_must_be_shown_to_hold_before_shipping() -> None:
    """Refunds 0.5 % -> 0.52 %: not significantly worse, but a 2 % loss is not ruled out."""
    primary = rate("conversion_rate", "primary", (10_000, 250), (10_000, 420))
    refunds = guardrail_flat(0.02)
    decision = decide(primary, [refunds], NO_BLOCKERS, PLAN)
    assert decision.verdict is Verdict.KEEP_RUNNING and decision.variant == "treatment"
    assert "refund_rate (margin 2.0%)" in decision.reason
    summary = summarise(decision, primary, [refunds], "control", ())
    assert "but refund rate has not yet ruled out a loss over 2 %" in summary
    assert "Keep running: about 10,000 more units per variant" in summary
    reached = PlanProgress(20_000, 30_000, 2, daily_units=2_000.0)
    late = decide(primary, [refunds], NO_BLOCKERS, reached)
    assert late.verdict is Verdict.INCONCLUSIVE


def test_a_guardrail_margin_that_holds_lets_the_variant_ship_and_says_so() -> None:
    """Refunds 5 % -> 3 % over 100,000 units: a loss over 10 % is clearly ruled out."""
    primary = rate("conversion_rate", "primary", (100_000, 2500), (100_000, 2900))
    refunds = rate("refund_rate", "guardrail", (100_000, 5000), (100_000, 3000), 0.1)
    plan = PlanProgress(200_000, 100_000, 2, daily_units=2_000.0)
    decision = decide(primary, [refunds], NO_BLOCKERS, plan)
    assert decision.verdict is Verdict.SHIP
    summary = summarise(decision, primary, [refunds], "control", ())
    assert "Guardrails: refund rate improved (−40 %)." in summary  # 5 % -> 3 %
    assert (
        "Rules: refund rate must rule out a loss over 10 % (a smaller loss is tolerated)."
        in summary
    )


def test_thin_primary_data_says_not_enough_data_yet() -> None:
    primary = rate("conversion_rate", "primary", (500, 2), (500, 3))
    assert primary.issue is MetricIssue.NOT_ENOUGH_DATA
    decision = decide(primary, [], NO_BLOCKERS, PLAN)
    assert decision.verdict is Verdict.KEEP_RUNNING
    summary = summarise(decision, primary, [], "control", ())
    assert summary.startswith("There is not enough data yet on purchase conversion for a reading.")


def test_significantly_worse_primary_stops() -> None:
    primary = rate("conversion_rate", "primary", (10_000, 420), (10_000, 250))
    decision = decide(primary, [guardrail_flat()], NO_BLOCKERS, PLAN)
    assert decision.verdict is Verdict.STOP
    assert decision.harmed_guardrail is None
    summary = summarise(decision, primary, [], "control", ())
    assert "lowered purchase conversion" in summary
    assert summary.endswith("Stop the experiment and keep control.")


def test_harmed_guardrail_stops_even_when_the_primary_improves() -> None:
    primary = rate("conversion_rate", "primary", (10_000, 250), (10_000, 420))
    refunds = rate("refund_rate", "guardrail", (10_000, 50), (10_000, 200))
    decision = decide(primary, [refunds], NO_BLOCKERS, PLAN)
    assert decision.verdict is Verdict.STOP
    assert "refund_rate" in decision.reason
    assert decision.harmed_guardrail == "refund_rate"
    assert "harmed refund rate: it rose by" in summarise(
        decision, primary, [refunds], "control", ()
    )


def test_lower_is_better_metric_improves_when_it_falls() -> None:
    primary = rate("refund_rate", "primary", (10_000, 400), (10_000, 250))
    assert decide(primary, [], NO_BLOCKERS, PLAN).verdict is Verdict.SHIP


def test_nothing_significant_keeps_running_with_units_and_days() -> None:
    primary = rate("conversion_rate", "primary", (10_000, 250), (10_000, 262))
    decision = decide(primary, [guardrail_flat()], NO_BLOCKERS, PLAN)
    assert decision.verdict is Verdict.KEEP_RUNNING
    assert decision.additional_units_per_variant == 10_000
    assert decision.additional_days == 10  # 10,000 more per variant, 2 variants, 2,000 a day
    summary = summarise(decision, primary, [], "control", ())
    assert "Keep running: about 10,000 more units per variant (about 10 more days" in summary


def test_planned_sample_reached_is_inconclusive() -> None:
    primary = rate("conversion_rate", "primary", (30_000, 750), (30_000, 760))
    plan = PlanProgress(20_000, 30_000, 2, daily_units=2_000.0)
    decision = decide(primary, [], NO_BLOCKERS, plan)
    assert decision.verdict is Verdict.INCONCLUSIVE
    assert "no variant changed purchase conversion clearly" in summarise(
        decision, primary, [], "control", ()
    )


def test_sample_ratio_mismatch_blocks_ship_and_is_said_first() -> None:
    primary = rate("conversion_rate", "primary", (10_000, 250), (9_000, 420))
    assert primary.analysis is not None and primary.analysis.srm.mismatch
    decision = decide(primary, [], Blockers(srm=True, data_quality_share=0.0), PLAN)
    assert decision.verdict is Verdict.INCONCLUSIVE
    warning = "Warning: the units are not split as designed."
    assert summarise(decision, primary, [], "control", (warning,)).startswith(warning)


def test_data_quality_blocks_ship_only_above_one_percent() -> None:
    primary = rate("conversion_rate", "primary", (10_000, 250), (10_000, 420))
    small = decide(primary, [], Blockers(srm=False, data_quality_share=0.005), PLAN)
    large = decide(primary, [], Blockers(srm=False, data_quality_share=0.02), PLAN)
    assert small.verdict is Verdict.SHIP
    assert large.verdict is Verdict.INCONCLUSIVE


def test_a_metric_without_data_carries_a_reason() -> None:
    primary = rate("conversion_rate", "primary", (1, 0), (0, 0))
    assert primary.issue is MetricIssue.NOT_ENOUGH_UNITS
    assert metric_page(primary).comparisons == []
    assert decide(primary, [], NO_BLOCKERS, PLAN).verdict is Verdict.KEEP_RUNNING


def _proportions(control: tuple[int, int], treatment: tuple[int, int]) -> dict[str, VariantSums]:
    return {"control": _rate_sums(*control), "treatment": _rate_sums(*treatment)}


def _rate_sums(n: int, conversions: int) -> VariantSums:
    c = float(conversions)
    return VariantSums(RatioStats(n, c, c, float(n), float(n), c))


def test_direction_comes_from_the_interval_never_from_an_estimate_it_contradicts() -> None:
    """A positive estimate with an interval wholly below zero (the issue's running-intersection
    case) is a loss: it stops, and the summary never says "raised"."""
    primary = rate("conversion_rate", "primary", (10_000, 250), (10_000, 420))
    assert primary.analysis is not None
    comparison = primary.analysis.comparisons[0]
    below = Interval(0.0007, -0.073, -0.055)
    absolute = Interval(0.00002, -0.002, -0.001)
    contradicted = replace(
        comparison, sequential=replace(comparison.sequential, absolute=absolute, relative=below)
    )
    flipped = replace(primary, analysis=replace(primary.analysis, comparisons=(contradicted,)))
    decision = decide(flipped, [], NO_BLOCKERS, PLAN)
    assert decision.verdict is Verdict.STOP
    summary = summarise(decision, flipped, [], "control", ())
    assert "raised" not in summary and "lowered purchase conversion" in summary


def test_an_effect_changing_over_time_makes_the_verdict_wait() -> None:
    primary = rate("conversion_rate", "primary", (10_000, 250), (10_000, 420))
    changing = replace(primary, running={"treatment": RunningReading(effect_changing=True)})
    decision = decide(changing, [guardrail_flat()], NO_BLOCKERS, PLAN)
    assert decision.verdict is Verdict.KEEP_RUNNING and decision.variant == "treatment"
    assert "changing over time" in decision.reason
    summary = summarise(decision, changing, [guardrail_flat()], "control", ())
    assert summary.startswith("The effect is changing over time: variant treatment's change in")
    reached = PlanProgress(20_000, 30_000, 2, daily_units=2_000.0)
    assert decide(changing, [], NO_BLOCKERS, reached).verdict is Verdict.INCONCLUSIVE


def test_a_shrunk_effect_says_when_it_was_significant() -> None:
    primary = rate("conversion_rate", "primary", (10_000, 250), (10_000, 262))
    assert primary.analysis is not None
    comparison = primary.analysis.comparisons[0]
    was = replace(comparison, sequential=replace(comparison.sequential, significant=True))
    since = RunningReading(significant_since=datetime(2026, 3, 4, tzinfo=UTC))
    shrunk = replace(
        primary,
        analysis=replace(primary.analysis, comparisons=(was,)),
        running={"treatment": since},
    )
    decision = decide(shrunk, [], NO_BLOCKERS, PLAN)
    assert decision.verdict is Verdict.KEEP_RUNNING
    summary = summarise(decision, shrunk, [], "control", ())
    assert "Variant treatment was significant on 3 March 2026; the effect has since shrunk." in (
        summary
    )


def test_a_loss_within_the_margin_is_tolerated_and_one_beyond_it_stops() -> None:
    """Add to cart 30 % -> 29.7 % (-1 %) and 28.8 % (-4 %) over 600,000 units, margin 2 %."""
    primary = rate("conversion_rate", "primary", (600_000, 15_000), (600_000, 16_500))
    small = rate("add_to_cart_rate", "guardrail", (600_000, 180_000), (600_000, 178_200), 0.02)
    large = rate("add_to_cart_rate", "guardrail", (600_000, 180_000), (600_000, 172_800), 0.02)
    plan = PlanProgress(700_000, 600_000, 2, daily_units=40_000.0)
    # Without a margin, today's rule: any loss shown is harmed.
    assert decide(primary, [replace(small, margin=None)], NO_BLOCKERS, plan).verdict is (
        Verdict.STOP
    )
    tolerated = decide(primary, [small], NO_BLOCKERS, plan)
    assert tolerated.verdict is Verdict.SHIP
    summary = summarise(tolerated, primary, [small], "control", ())
    assert "add-to-cart rate: a loss within the tolerated 2 %" in summary
    assert "must rule out a loss over 2 % (a smaller loss is tolerated)" in summary
    beyond = decide(primary, [large], NO_BLOCKERS, plan)
    assert beyond.verdict is Verdict.STOP and beyond.harmed_guardrail == "add_to_cart_rate"
    stopped = summarise(beyond, primary, [large], "control", ())
    assert ", beyond the tolerated 2 % (a loss of at least 3.1 % shown, one-sided)." in stopped


def test_a_margin_is_a_one_sided_test_at_level_alpha() -> None:
    """Both margin questions read the one-sided sequential bounds at level alpha, which are
    tighter than the two-sided interval's: a loss beyond the margin is shown, or ruled out,
    where the two-sided interval could not show it (the rule before: harm needed the two-sided
    interval wholly beyond -2 %, a ship its lower bound above -2 %)."""
    primary = rate("conversion_rate", "primary", (600_000, 15_000), (600_000, 16_500))
    plan = PlanProgress(700_000, 600_000, 2, daily_units=40_000.0)
    # 30 % -> 28.6 % over 60,000 units: two-sided up to -1.9 %, one-sided up to -2.1 %.
    lost = rate("add_to_cart_rate", "guardrail", (60_000, 18_000), (60_000, 17_180), 0.02)
    [two_sided] = lost.analysis.comparisons if lost.analysis else ()
    high = two_sided.sequential.relative.ci_high
    assert high is not None and -0.02 < high < 0
    one_sided = lost.margin_bounds_of("treatment").ci_high
    assert one_sided is not None and one_sided < -0.02
    stopped = decide(primary, [lost], NO_BLOCKERS, plan)
    assert stopped.verdict is Verdict.STOP and stopped.harmed_guardrail == "add_to_cart_rate"
    summary = summarise(stopped, primary, [lost], "control", ())
    assert "beyond the tolerated 2 % (a loss of at least 2.1 % shown, one-sided)" in summary
    # 30 % -> 29.7 % over 600,000 units: two-sided down to -2.02 %, one-sided to -1.95 %.
    held = rate("add_to_cart_rate", "guardrail", (600_000, 180_000), (600_000, 178_050), 0.02)
    [two_sided] = held.analysis.comparisons if held.analysis else ()
    low = two_sided.sequential.relative.ci_low
    assert low is not None and low < -0.02
    one_sided = held.margin_bounds_of("treatment").ci_low
    assert one_sided is not None and one_sided > -0.02
    shipped = decide(primary, [held], NO_BLOCKERS, plan)
    assert shipped.verdict is Verdict.SHIP
    summary = summarise(shipped, primary, [held], "control", ())
    assert "add-to-cart rate: a loss within the tolerated 2 %" in summary


def test_a_guardrail_read_without_its_margin_shows_nothing_about_the_margin() -> None:
    """No one-sided bounds (analysed without the margin): neither harmed nor ruled out, so the
    variant waits rather than ship or stop on a reading the margin was not tested on."""
    primary = rate("conversion_rate", "primary", (600_000, 15_000), (600_000, 16_500))
    plan = PlanProgress(700_000, 600_000, 2, daily_units=40_000.0)
    margins = {"add_to_cart_rate": 0.02}
    large = rate("add_to_cart_rate", "guardrail", (600_000, 180_000), (600_000, 172_800))
    small = rate("add_to_cart_rate", "guardrail", (600_000, 180_000), (600_000, 179_900))
    assert not large.margin_bounds and not small.margin_bounds
    for guardrail in (large, small):
        with_margin = replace(guardrail, margin=margins["add_to_cart_rate"])
        decision = decide(primary, [with_margin], NO_BLOCKERS, plan)
        assert decision.verdict is Verdict.KEEP_RUNNING
        assert "a loss beyond the margin is not yet ruled out" in decision.reason


def test_the_margin_bounds_are_the_one_sided_readings_family_corrected() -> None:
    """With two variants against the control (two comparisons), each bound is the one-sided
    reading of `stats.analyze` at level alpha, Bonferroni-corrected over the same comparisons
    as the two-sided reading: the two-sided sequence at twice the level."""
    counts = {"control": (50_000, 15_000), "b": (50_000, 14_600), "c": (50_000, 15_100)}
    sums = {key: _rate_sums(*value) for key, value in counts.items()}
    options = replace(OPTIONS, weights=(1.0, 1.0, 1.0))
    result = analyse_metric(METRICS["add_to_cart_rate"], "guardrail", sums, options, 0.02)
    variants = [
        {"key": key, "n": n, "conversions": conversions} for key, (n, conversions) in counts.items()
    ]
    planned, weights = 20_000, (1.0, 1.0, 1.0)
    greater = analyze(
        "proportion",
        variants,
        alternative="greater",
        planned_units_per_variant=planned,
        weights=weights,
    )
    less = analyze(
        "proportion",
        variants,
        alternative="less",
        planned_units_per_variant=planned,
        weights=weights,
    )
    doubled = analyze(
        "proportion", variants, alpha=0.10, planned_units_per_variant=planned, weights=weights
    )
    for above, below, both in zip(
        greater.comparisons, less.comparisons, doubled.comparisons, strict=True
    ):
        bounds = result.margin_bounds_of(above.variant)
        assert bounds.ci_low == pytest.approx(above.sequential.relative.ci_low, rel=1e-9)
        assert bounds.ci_high == pytest.approx(below.sequential.relative.ci_high, rel=1e-9)
        assert bounds.ci_low == pytest.approx(both.sequential.relative.ci_low, rel=1e-9)
        assert bounds.ci_high == pytest.approx(both.sequential.relative.ci_high, rel=1e-9)
    # The two-sided interval shown stays the level-alpha one, wider than the bounds.
    [shown, _] = result.analysis.comparisons if result.analysis else ()
    bounds = result.margin_bounds_of("b")
    assert shown.sequential.relative.ci_low is not None and bounds.ci_low is not None
    assert shown.sequential.relative.ci_low < bounds.ci_low


def test_the_summary_never_words_another_variants_reading_under_a_named_variant() -> None:
    """A guardrail with no comparison for the shipped variant has no reading for it; the summary
    once fell back to the guardrail's first comparison (another variant's) under this name."""
    primary = rate("conversion_rate", "primary", (10_000, 250), (10_000, 420))
    other_only = {"control": _rate_sums(10_000, 50), "b": _rate_sums(10_000, 90)}
    refunds = analyse_metric(METRICS["refund_rate"], "guardrail", other_only, OPTIONS)
    [reading] = refunds.analysis.comparisons if refunds.analysis else ()
    assert reading.variant == "b"
    decision = decide(primary, [refunds], NO_BLOCKERS, PLAN)
    assert decision.verdict is Verdict.SHIP and decision.variant == "treatment"
    summary = summarise(decision, primary, [refunds], "control", ())
    assert "Guardrails: refund rate: no reading yet." in summary
    assert "harmed" not in summary.split("Rules:")[0]
