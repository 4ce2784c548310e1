"""The readings in words: what decides, notes when readings seem to disagree, guardrails,
reasons, and intervals that are never a bare '-'."""

from __future__ import annotations

from dataclasses import replace

from experiments.metrics import builtin_metrics
from experiments.models.metric import Direction
from experiments.results.readings.metric_analysis import analyse_metric
from experiments.results.render import metric_page
from experiments.results.sums.aggregation import VariantSums
from experiments.results.sums.sum_sources import denominators
from experiments.results.types import MetricIssue, MetricResult
from experiments.results.verdict.guardrails import NO_BOUNDS, read_guardrail
from experiments.results.words.formatting import MINUS
from experiments.results.words.wording import (
    comparison_reason_text,
    disagreement,
    guardrail_status,
    interval_text,
    metric_issue_text,
    reason_text,
)
from stats import (
    AnalysisOptions,
    BayesianResult,
    Comparison,
    Interval,
    RatioStats,
    Reason,
    SequentialResult,
    VariantSummary,
)


def comparison(
    relative: tuple[float | None, float | None, float | None],
    *,
    significant: bool = False,
    chance: float | None = 0.5,
    fixed_significant: bool = False,
) -> Comparison:
    interval = Interval(*relative)
    # The absolute interval on a 2 % baseline: the same side of zero as the relative one.
    absolute = Interval(*(None if bound is None else bound * 0.02 for bound in relative))
    return Comparison(
        "b",
        "a",
        absolute,
        interval,
        0.01 if fixed_significant else 0.4,
        0.01 if fixed_significant else 0.4,
        fixed_significant,
        SequentialResult(0.01 if significant else 0.6, absolute, interval, significant),
        BayesianResult(chance, 0.01),
    )


def status(
    direction: Direction, compared: Comparison, margin: float | None, bounds: Interval = NO_BOUNDS
) -> str:
    """A guardrail's reading of ``compared`` (`guardrails.read_guardrail`), in words."""
    return guardrail_status(
        read_guardrail("g", compared.variant, direction, compared, margin, bounds)
    )


def test_guardrail_wording_states_what_was_shown() -> None:
    wide = comparison((0.3, -0.547, 1.68))
    assert status("decrease", wide, None) == "no clear effect yet"
    tight = comparison((-0.005, -0.03, 0.02))
    assert status("decrease", tight, None) == "not harmed (shown within +2 %)"
    revenue = comparison((0.01, -0.02, 0.05))
    assert status("increase", revenue, None) == f"not harmed (shown within {MINUS}2 %)"
    harmed = comparison((0.4, 0.2, 0.6), significant=True)
    assert status("decrease", harmed, None) == "harmed"
    unbounded = comparison((0.1, None, None))
    assert status("decrease", unbounded, None) == "no clear effect yet"


def test_a_margin_tolerates_a_loss_within_it_and_says_which_rule_applied() -> None:
    """With a 2 % margin only a loss shown beyond 2 % is harmed, on the one-sided bounds;
    without one, any loss the two-sided interval shows."""
    within = comparison((-0.01, -0.021, -0.003), significant=True)
    one_sided = Interval(-0.01, -0.019, -0.004)
    assert status("increase", within, 0.02, one_sided) == ("a loss within the tolerated 2 %")
    assert status("increase", within, None, one_sided) == "harmed"
    # The two-sided interval alone decides nothing about the margin.
    assert status("increase", within, 0.02) == ("a loss, not yet shown within the tolerated 2 %")
    straddling = comparison((-0.02, -0.035, -0.006), significant=True)
    assert status("increase", straddling, 0.02, Interval(-0.02, -0.033, -0.008)) == (
        "a loss, not yet shown within the tolerated 2 %"
    )
    # Two-sided up to -1.9 %, one-sided up to -2.1 %: a loss beyond the margin is shown.
    beyond = comparison((-0.045, -0.07, -0.019), significant=True)
    assert status("increase", beyond, 0.02, Interval(-0.045, -0.068, -0.021)) == ("harmed")
    rising = comparison((0.05, 0.03, 0.07), significant=True)  # lower is better
    assert status("decrease", rising, 0.02, Interval(0.05, 0.032, 0.068)) == "harmed"
    assert status(
        "decrease", comparison((0.01, 0.003, 0.021)), 0.02, Interval(0.01, 0.004, 0.019)
    ) == ("a loss within the tolerated 2 %")
    flat = comparison((0.001, -0.012, 0.021))
    assert status("decrease", flat, 0.02, Interval(0.001, -0.01, 0.0194)) == (
        "not harmed (shown within +1.9 %, one-sided)"
    )


def test_a_high_chance_without_evidence_is_explained() -> None:
    note = disagreement(comparison((0.2, -0.05, 0.5), chance=0.967))
    assert note is not None
    assert "chance to beat the control is high (97 %)" in note
    assert "not yet enough evidence to call it" in note
    low = disagreement(comparison((-0.2, -0.5, 0.05), chance=0.03))
    assert low is not None and "low (3 %)" in low
    fixed = disagreement(comparison((0.1, -0.01, 0.2), chance=0.8, fixed_significant=True))
    assert fixed is not None and "holds only at the planned sample size" in fixed
    agreeing = comparison((0.3, 0.1, 0.5), significant=True, chance=0.99)
    assert disagreement(agreeing) is None


def test_intervals_say_why_they_are_missing() -> None:
    assert interval_text(Interval(0.1, 0.041, 0.21), None) == "+4.1 % to +21 %"
    assert interval_text(Interval(0.1, 0.041, None), None) == "+4.1 % or more"
    missing = interval_text(Interval(None, None, None), Reason.RELATIVE_INTERVAL_UNBOUNDED)
    assert missing.startswith("none yet: the control's value is not yet clearly above zero")
    assert interval_text(Interval(None, None, None), None) == (
        "none yet: too little data to bound it yet"
    )


def test_reasons_in_words() -> None:
    assert reason_text(Reason.ZERO_VARIANCE).startswith("every unit has the same value")
    assert reason_text(MetricIssue.NOT_IN_PASTED_COUNTS) == "not in the pasted counts"
    result = MetricResult(
        "aov",
        "Average order value",
        "ratio",
        "increase",
        "secondary",
        (VariantSummary("control", 1, None), VariantSummary("b", 5, 600.0)),
        None,
        MetricIssue.NOT_ENOUGH_UNITS,
        "variant(s) control have fewer than 2 exposed units",
    )
    assert metric_issue_text(result) == "not enough data yet: 1 unit in control"


def test_every_comparison_says_which_reading_decides() -> None:
    metric = builtin_metrics()["conversion_rate"]
    sums = {
        key: VariantSums(RatioStats(n, float(c), float(c), float(n), float(n), float(c)))
        for key, n, c in (("control", 4000, 100), ("b", 4000, 130))
    }
    options = AnalysisOptions(0.05, weights=(1.0, 1.0), planned_units_per_variant=10_000)
    data = metric_page(analyse_metric(metric, "primary", sums, options))
    (only,) = data.comparisons
    assert only.decided_by == "sequential"
    assert only.outcome == "no_clear_change"
    assert only.note is not None and "high" in only.note


def test_a_ratio_without_an_interval_says_what_its_denominators_count() -> None:
    aov = builtin_metrics()["aov"]

    def orders(n: int, count: int, total: float) -> VariantSums:
        return VariantSums(RatioStats(n, total, total * total / max(count, 1), count, count, total))

    sums = {"control": orders(900, 3, 1950.0), "one-page": orders(900, 41, 27_000.0)}
    assert denominators(aov, sums) == "3 orders in control, 41 in one-page"
    result = replace(
        analyse_metric(
            aov,
            "secondary",
            sums,
            AnalysisOptions(0.05, weights=(1.0, 1.0), planned_units_per_variant=10_000),
        ),
        denominators=denominators(aov, sums),
    )
    thin = comparison((0.1, None, None), chance=0.6)
    assert comparison_reason_text(result, thin) == (
        "not enough data yet: 3 orders in control, 41 in one-page"
    )
    bounded = comparison((0.1, -0.05, 0.3), chance=0.6)
    assert comparison_reason_text(result, bounded) is None
    conversion = builtin_metrics()["conversion_rate"]
    assert denominators(conversion, sums) is None
    assert metric_page(result).denominators == "3 orders in control, 41 in one-page"
