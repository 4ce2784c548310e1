"""A quantile metric's `MetricResult` from its per-variant summaries (`sums.quantiles`): read by
`stats.quantile_analysis` and oriented by the metric's direction, like any other metric's, so
the families, the verdict's guardrails and the pages read it unchanged.

Its values per variant are the quantiles (the median order value); `denominators` says how many
values each rests on ("412 orders in control, 398 in b").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from experiments.metrics import denominator_nouns
from experiments.models.metric import MetricDefinition
from experiments.results.readings.direction import oriented
from experiments.results.readings.metric_analysis import one_sided_bounds
from experiments.results.types import MetricIssue, MetricResult, Role
from experiments.results.words.formatting import count, plural
from stats import AnalysisOptions, Reason, VariantSummary
from stats.quantile_analysis import analyze_quantiles
from stats.quantiles import QuantileSums


def quantile_result(
    metric: MetricDefinition,
    role: Role,
    arms: Mapping[str, QuantileSums],
    options: AnalysisOptions,
    margin: float | None = None,
) -> MetricResult:
    """The metric's quantile per variant and each variant's comparison with the control (with
    a guardrail's `margin`, its one-sided sequential bounds on the relative change)."""
    ordered = list(arms.items())
    values = tuple(VariantSummary(key, arm.units, arm.quantile) for key, arm in ordered)
    too_small = [key for key, arm in ordered if arm.units < 2]
    if too_small:
        return MetricResult(
            metric.key,
            metric.name,
            metric.kind,
            metric.direction,
            role,
            values,
            None,
            MetricIssue.NOT_ENOUGH_UNITS,
            f"variant(s) {', '.join(too_small)} have fewer than 2 exposed units",
            value_format=metric.value_format,
            margin=margin,
        )
    analysis = analyze_quantiles(ordered, options)
    thin = [c.variant for c in analysis.comparisons if c.reason in _THIN]
    issue, detail = None, None
    if thin:
        issue = MetricIssue.NOT_ENOUGH_DATA
        detail = (
            f"not enough data yet for {', '.join(thin)}: the reading needs "
            f"{metric.minimum_rule}, and some spread in each"
        )
    result = MetricResult(
        metric.key,
        metric.name,
        metric.kind,
        metric.direction,
        role,
        values,
        oriented(analysis, metric.direction),
        issue,
        detail,
        value_format=metric.value_format,
        denominators=_values_counted(metric, arms),
    )
    if margin is None:
        return result
    return replace(
        result,
        margin=margin,
        margin_bounds=one_sided_bounds(lambda sided: analyze_quantiles(ordered, sided), options),
    )


_THIN = {Reason.NOT_ENOUGH_DATA, Reason.ZERO_VARIANCE}


def _values_counted(metric: MetricDefinition, arms: Mapping[str, QuantileSums]) -> str:
    """'412 orders in control, 398 in b': the values each variant's quantile rests on, named
    as a ratio over the same event names its denominator ("order" for `purchase`)."""
    over = metric.model_copy(update={"denominator_event": metric.numerator_event})
    singular, plural_form = denominator_nouns(over)
    parts = []
    for index, (key, arm) in enumerate(arms.items()):
        amount = arm.indicator.values
        text = plural(amount, singular, plural_form) if index == 0 else count(amount)
        parts.append(f"{text} in {key}")
    return ", ".join(parts)
