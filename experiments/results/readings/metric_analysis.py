"""From one metric's per-variant sums to its `MetricResult` (values and stats comparisons)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import NamedTuple

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
    analyze_many,
)
from stats.types import MetricStats


class MetricSums(NamedTuple):
    """One metric to analyse: its definition, role, per-variant sums and a guardrail's relative
    non-inferiority margin (None without one)."""

    metric: MetricDefinition
    role: Role
    sums: dict[str, VariantSums]
    margin: float | None = None


def analyse_metric(
    metric: MetricDefinition,
    role: Role,
    sums: dict[str, VariantSums],
    options: AnalysisOptions,
    margin: float | None = None,
) -> MetricResult:
    """Analyse one metric (`analyse_metrics` of it alone)."""
    return analyse_metrics([MetricSums(metric, role, sums, margin)], options)[0]


def analyse_metrics(metrics: Sequence[MetricSums], options: AnalysisOptions) -> list[MetricResult]:
    """Analyse each metric; degenerate data gives a result carrying an issue, never an error.

    Every comparison of every metric is read at once (`stats.bulk.analyze_many`, the same
    figures as `stats.analyze_stats` one metric at a time). A guardrail's ``margin`` adds its
    one-sided bounds (`margin_bounds`), on which the margin is decided."""
    inputs = [
        None if _too_small(item.sums) else stats_inputs(item.metric, item.sums) for item in metrics
    ]
    analyses = iter(
        analyze_many([variants for variants in inputs if variants is not None], options)
    )
    results: list[MetricResult] = []
    margined: list[list[VariantInput]] = []
    for item, variants in zip(metrics, inputs, strict=True):
        if variants is None:
            fewer = f"variant(s) {', '.join(_too_small(item.sums))} have fewer than 2 exposed units"
            result = metric_result(
                item.metric, item.role, item.sums, MetricIssue.NOT_ENOUGH_UNITS, fewer
            )
            results.append(replace(result, margin=item.margin))
            continue
        analysis = next(analyses)
        if isinstance(analysis, StatsInputError):
            invalid = MetricIssue.INVALID_STATISTICS
            result = metric_result(item.metric, item.role, item.sums, invalid, str(analysis))
            results.append(replace(result, margin=item.margin))
            continue
        issue, detail = _thin_data(item.metric, analysis)
        result = metric_result(item.metric, item.role, item.sums, issue, detail, analysis)
        if item.margin is not None:
            margined.append(variants)
            result = replace(result, margin=item.margin)
        results.append(result)
    bounds = iter(margin_bounds(margined, options))
    return [
        replace(result, margin_bounds=next(bounds))
        if result.margin is not None and result.analysis is not None
        else result
        for result in results
    ]


def _too_small(sums: dict[str, VariantSums]) -> list[str]:
    return [key for key, s in sums.items() if s.totals.n < 2]


def margin_bounds(
    analyses: Sequence[Sequence[VariantInput]], options: AnalysisOptions
) -> list[dict[str, Interval]]:
    """Each analysis's one-sided sequential bounds per variant on the relative change at level
    alpha (`one_sided_bounds` over `stats.bulk.analyze_many`)."""
    if not analyses:
        return []
    greater = analyze_many(analyses, replace(options, alternative=Alternative.GREATER))
    less = analyze_many(analyses, replace(options, alternative=Alternative.LESS))
    return [
        _bounds(_result(above), _result(below)) for above, below in zip(greater, less, strict=True)
    ]


def _result(outcome: AnalysisResult | StatsInputError) -> AnalysisResult:
    """An analysis the two-sided reading read (the same inputs, another alternative)."""
    if isinstance(outcome, StatsInputError):
        raise outcome
    return outcome


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
    return _bounds(greater, less)


def _bounds(greater: AnalysisResult, less: AnalysisResult) -> dict[str, Interval]:
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
