"""From one metric's per-variant sums to its `MetricResult` (values and stats comparisons)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from experiments.models.metric import MetricDefinition
from experiments.results.aggregation import VariantSums
from experiments.results.direction import oriented
from experiments.results.types import MetricIssue, MetricResult, Role, VariantValue
from stats import DEFAULT_MINIMUMS, AnalysisResult, Reason, StatsInputError, analyze

_STATS_KIND = {"conversion": "proportion", "mean": "mean", "ratio": "ratio"}


@dataclass(frozen=True, slots=True)
class AnalysisOptions:
    """What the experiment's design passes to `stats.analyze` for every metric."""

    alpha: float
    weights: tuple[float, ...]
    planned_units_per_variant: int | None


def analyse_metric(
    metric: MetricDefinition,
    role: Role,
    sums: dict[str, VariantSums],
    options: AnalysisOptions,
) -> MetricResult:
    """Analyse one metric; degenerate data gives a result carrying an issue, never an error."""
    values = tuple(VariantValue(key, s.n, value_of(metric, s)) for key, s in sums.items())
    too_small = [key for key, s in sums.items() if s.n < 2]
    if too_small:
        return _without_analysis(
            metric,
            role,
            values,
            MetricIssue.NOT_ENOUGH_UNITS,
            f"variant(s) {', '.join(too_small)} have fewer than 2 exposed units",
        )
    try:
        analysis = analyze(
            _STATS_KIND[metric.kind],
            stats_inputs(metric, sums),
            alpha=options.alpha,
            weights=options.weights,
            planned_units_per_variant=options.planned_units_per_variant,
        )
    except StatsInputError as error:
        return _without_analysis(metric, role, values, MetricIssue.INVALID_STATISTICS, str(error))
    issue, detail = _thin_data(metric, analysis)
    return MetricResult(
        metric.key,
        metric.name,
        metric.kind,
        metric.direction,
        role,
        values,
        oriented(analysis, metric.direction),
        issue,
        detail,
    )


# Comparisons that `stats` reads no figures from, for lack of data (docs/statistics.md).
_THIN = {Reason.NOT_ENOUGH_DATA, Reason.NO_CONVERSIONS, Reason.ZERO_VARIANCE}
_MINIMUM_RULE = {
    "conversion": f"at least {DEFAULT_MINIMUMS.conversions} conversions in the control and the "
    "variant together",
    "mean": f"at least {DEFAULT_MINIMUMS.units} units with a value in each variant",
    "ratio": f"at least {DEFAULT_MINIMUMS.units} units with a denominator (for AOV: with an "
    "order) in each variant",
}


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
        f"{_MINIMUM_RULE[metric.kind]}, and some spread in each",
    )


def value_of(metric: MetricDefinition, sums: VariantSums) -> float | None:
    """The metric's value in one variant: a rate, a mean per unit, or a ratio of sums."""
    if metric.kind == "ratio":
        return sums.numerator_sum / sums.denominator_sum if sums.denominator_sum else None
    return sums.numerator_sum / sums.n if sums.n else None


def stats_inputs(metric: MetricDefinition, sums: dict[str, VariantSums]) -> list[dict[str, Any]]:
    """The mappings `stats.analyze` takes for this metric's kind, control first.

    Every kind carries the CUPED covariate when any unit has pre-period data; mean and ratio
    metrics carry their units with a value (mean) or a denominator (ratio).
    """
    with_covariate = any(s.covariate_sum_squares for s in sums.values())
    inputs = []
    for key, s in sums.items():
        entry: dict[str, Any] = {"key": key, "n": s.n}
        if metric.kind == "conversion":
            entry["conversions"] = round(s.numerator_sum)
        elif metric.kind == "mean":
            entry.update(sum=s.numerator_sum, sum_squares=s.numerator_sum_squares)
        else:
            entry.update(
                numerator_sum=s.numerator_sum,
                numerator_sum_squares=s.numerator_sum_squares,
                denominator_sum=s.denominator_sum,
                denominator_sum_squares=s.denominator_sum_squares,
                cross_sum=s.cross_sum,
            )
        if metric.kind != "conversion" and s.nonzero_units is not None:
            entry["nonzero_units"] = s.nonzero_units
        if with_covariate:
            entry.update(
                covariate_sum=s.covariate_sum,
                covariate_sum_squares=s.covariate_sum_squares,
                covariate_cross_sum=s.covariate_cross_sum,
            )
            if metric.kind == "ratio":
                entry["covariate_denominator_cross_sum"] = s.covariate_denominator_cross_sum
        inputs.append(entry)
    return inputs


def _without_analysis(
    metric: MetricDefinition,
    role: Role,
    values: Sequence[VariantValue],
    issue: MetricIssue,
    detail: str,
) -> MetricResult:
    return MetricResult(
        metric.key,
        metric.name,
        metric.kind,
        metric.direction,
        role,
        tuple(values),
        None,
        issue,
        detail,
    )
