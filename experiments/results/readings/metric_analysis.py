"""From one metric's per-variant sums to its `MetricResult` (values and stats comparisons)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from experiments.models.metric import MetricDefinition, MetricKind
from experiments.results.readings.direction import oriented
from experiments.results.sums.aggregation import VariantSums
from experiments.results.types import MetricIssue, MetricResult, Role
from stats import (
    Alternative,
    AnalysisOptions,
    AnalysisResult,
    CovariateStats,
    Interval,
    MeanStats,
    ProportionStats,
    RatioStats,
    Reason,
    StatsInputError,
    VariantInput,
    VariantSummary,
    analyze_stats,
)
from stats.types import MetricStats


def analyse_metric(
    metric: MetricDefinition,
    role: Role,
    sums: dict[str, VariantSums],
    options: AnalysisOptions,
    margin: float | None = None,
) -> MetricResult:
    """Analyse one metric; degenerate data gives a result carrying an issue, never an error.

    A guardrail's relative non-inferiority ``margin`` adds its one-sided bounds
    (`margin_bounds`), on which the margin is decided."""
    too_small = [key for key, s in sums.items() if s.totals.n < 2]
    if too_small:
        fewer = f"variant(s) {', '.join(too_small)} have fewer than 2 exposed units"
        result = metric_result(metric, role, sums, MetricIssue.NOT_ENOUGH_UNITS, fewer)
        return replace(result, margin=margin)
    inputs = stats_inputs(metric, sums)
    try:
        analysis = analyze_stats(inputs, options)
    except StatsInputError as error:
        result = metric_result(metric, role, sums, MetricIssue.INVALID_STATISTICS, str(error))
        return replace(result, margin=margin)
    issue, detail = _thin_data(metric, analysis)
    result = metric_result(metric, role, sums, issue, detail, analysis)
    if margin is None:
        return result
    return replace(result, margin=margin, margin_bounds=margin_bounds(inputs, options))


def margin_bounds(inputs: list[VariantInput], options: AnalysisOptions) -> dict[str, Interval]:
    """Each variant's one-sided sequential bounds on the relative change at level alpha
    (`one_sided_bounds` over `stats.analyze_stats`)."""
    return one_sided_bounds(lambda sided: analyze_stats(inputs, sided), options)


def one_sided_bounds(
    analyze: Callable[[AnalysisOptions], AnalysisResult], options: AnalysisOptions
) -> dict[str, Interval]:
    """Each variant's one-sided sequential bounds on the relative change at level alpha: the
    lower bound of the "greater" reading and the upper bound of the "less" one, of the same
    analysis (`analyze`, given the options with their alternative set).

    A margin asks a one-sided question ("is the loss beyond it?", "is it ruled out?"), so each
    is a one-sided test at level alpha (`stats.sequential`: the two-sided mixture at twice the
    level, Bonferroni-corrected over the same comparisons as the two-sided reading)."""
    greater = analyze(replace(options, alternative=Alternative.GREATER))
    less = analyze(replace(options, alternative=Alternative.LESS))
    return {
        above.variant: Interval(
            above.sequential.relative.estimate,
            above.sequential.relative.ci_low,
            below.sequential.relative.ci_high,
        )
        for above, below in zip(greater.comparisons, less.comparisons, strict=True)
    }


def metric_result(
    metric: MetricDefinition,
    role: Role,
    sums: dict[str, VariantSums],
    issue: MetricIssue | None,
    detail: str | None,
    analysis: AnalysisResult | None = None,
) -> MetricResult:
    """The metric's value per variant, with `analysis` oriented by the metric's direction (None:
    not analysed, `issue` and `detail` say why)."""
    values = tuple(VariantSummary(key, s.totals.n, value_of(metric, s)) for key, s in sums.items())
    oriented_analysis = None if analysis is None else oriented(analysis, metric.direction)
    return MetricResult(
        metric.key,
        metric.name,
        metric.kind,
        metric.direction,
        role,
        values,
        oriented_analysis,
        issue,
        detail,
    )


# Comparisons that `stats` reads no figures from, for lack of data (docs/statistics.md).
_THIN = {Reason.NOT_ENOUGH_DATA, Reason.NO_CONVERSIONS, Reason.ZERO_VARIANCE}


def _thin_data(
    metric: MetricDefinition, analysis: AnalysisResult
) -> tuple[MetricIssue | None, str | None]:
    """`not_enough_data` and a plain sentence when some comparison has no reading yet."""
    thin = [c.variant for c in analysis.comparisons if c.reason in _THIN]
    if not thin:
        return None, None
    return (
        MetricIssue.NOT_ENOUGH_DATA,
        f"not enough data yet for {', '.join(thin)}: the reading needs "
        f"{metric.minimum_rule}, and some spread in each",
    )


def value_of(metric: MetricDefinition, sums: VariantSums) -> float | None:
    """The metric's value in one variant: a rate, a mean per unit, or a ratio of sums."""
    totals = sums.totals
    if metric.kind == "ratio":
        return totals.numerator_sum / totals.denominator_sum if totals.denominator_sum else None
    return totals.numerator_sum / totals.n if totals.n else None


def stats_inputs(metric: MetricDefinition, sums: dict[str, VariantSums]) -> list[VariantInput]:
    """The typed variants `stats.analyze_stats` takes for this metric's kind, control first.

    Every kind carries the CUPED covariate when any unit has pre-period data; mean and ratio
    metrics carry their units with a value (mean) or a denominator (ratio).
    """
    with_covariate = any(s.covariate.covariate_sum_squares for s in sums.values())
    summarise = _SUMMARIES[metric.kind]
    return [
        VariantInput(
            key=key,
            stats=summarise(s.totals),
            covariate=_covariate(s, metric.kind) if with_covariate else None,
            nonzero_units=None if metric.kind == "conversion" else s.nonzero_units,
        )
        for key, s in sums.items()
    ]


# A conversion or mean metric's denominator is 1 per unit: only its numerator sums are read.
_SUMMARIES: dict[MetricKind, Callable[[RatioStats], MetricStats]] = {
    "conversion": lambda s: ProportionStats(n=s.n, conversions=round(s.numerator_sum)),
    "mean": lambda s: MeanStats(n=s.n, sum=s.numerator_sum, sum_squares=s.numerator_sum_squares),
    "ratio": lambda s: s,
}


def _covariate(sums: VariantSums, kind: MetricKind) -> CovariateStats:
    if kind == "ratio":
        return sums.covariate
    # Without a per-unit denominator, no covariate x denominator cross sum enters CUPED.
    return replace(sums.covariate, covariate_denominator_cross_sum=0.0)
