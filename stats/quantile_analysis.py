"""``analyze_quantiles``: a quantile metric's ``AnalysisResult`` (each variant against the
first), shaped as ``stats.analyze``'s so the results pipeline, the families of metrics and the
pages read it like any other metric's.

The readings are those of ``stats.quantiles``: the fixed-horizon z-test with Holm's (or the
chosen) correction across arms and intervals at the matching level, the mixture-SPRT at
Bonferroni's, and the Gaussian posterior on the same normal estimates.
"""

from __future__ import annotations

from collections.abc import Sequence

from stats.bayesian import gaussian_reading
from stats.corrections import adjust, interval_level
from stats.fixed import welch_test
from stats.quantiles import MINIMUM_VALUES, QuantileReading, QuantileSums, compare_quantiles
from stats.quantiles import quantile_estimate as estimate_of
from stats.results import (
    UNDEFINED_INTERVAL,
    AnalysisResult,
    BayesianResult,
    Comparison,
    Interval,
    SequentialResult,
    VariantSummary,
)
from stats.sequential import DEFAULT_PLANNED_UNITS_PER_VARIANT
from stats.srm import sample_ratio_check
from stats.types import AnalysisOptions, QuantileKind
from stats.validation import (
    parse_alpha,
    parse_alternative,
    parse_correction,
    parse_planned_units,
    parse_prior,
    parse_weights,
)


def analyze_quantiles(
    arms: Sequence[tuple[str, QuantileSums]],
    options: AnalysisOptions,
    minimum_values: int = MINIMUM_VALUES,
) -> AnalysisResult:
    """Each arm's quantile against the first arm's (``arms``: variant key and summaries,
    control first), with ``options``' level, alternative, correction, prior, weights and plan."""
    level = parse_alpha(options.alpha)
    side = parse_alternative(options.alternative)
    planned = parse_planned_units(
        options.planned_units_per_variant, DEFAULT_PLANNED_UNITS_PER_VARIANT
    )
    prior = parse_prior(options.prior)
    designed = parse_weights(options.weights, len(arms))
    count = len(arms) - 1
    control_key, control = arms[0]
    readings: list[QuantileReading] = [
        compare_quantiles(
            control,
            treatment,
            alpha=level,
            alternative=side,
            planned_units=planned,
            comparisons=count,
            minimum_values=minimum_values,
        )
        for _, treatment in arms[1:]
    ]
    p_values = [None if r.fixed is None else r.fixed.p_value for r in readings]
    adjusted = adjust(p_values, parse_correction(options.correction))
    comparisons = []
    for (key, treatment), reading, p_adjusted in zip(arms[1:], readings, adjusted, strict=True):
        first, second = estimate_of(control), estimate_of(treatment)
        if reading.fixed is None or reading.sequential is None or p_adjusted is None:
            comparisons.append(_withheld(key, control_key, first.mean, second.mean, reading))
            continue
        fixed = reading.fixed
        if count > 1:
            matching = interval_level(level, fixed.p_value, p_adjusted, count)
            fixed = welch_test(first, second, matching, side)
        comparisons.append(
            Comparison(
                key,
                control_key,
                fixed.absolute,
                UNDEFINED_INTERVAL if fixed.relative is None else fixed.relative,
                fixed.p_value,
                p_adjusted,
                p_adjusted < level,
                reading.sequential,
                gaussian_reading(first, second, prior, side),
                fixed.reason,
            )
        )
    return AnalysisResult(
        QuantileKind.QUANTILE,
        level,
        tuple(VariantSummary(key, arm.units, arm.quantile) for key, arm in arms),
        sample_ratio_check([arm.units for _, arm in arms], designed),
        tuple(comparisons),
    )


def _withheld(
    variant: str,
    baseline: str,
    control: float | None,
    treatment: float | None,
    reading: QuantileReading,
) -> Comparison:
    """Point estimates only, no bounds, never significant (as ``stats.analyze`` withholds)."""
    absolute = relative = UNDEFINED_INTERVAL
    if control is not None and treatment is not None:
        absolute = Interval(treatment - control, None, None)
        if control != 0:
            relative = Interval(treatment / control - 1.0, None, None)
    return Comparison(
        variant,
        baseline,
        absolute,
        relative,
        None,
        None,
        False,
        SequentialResult(None, absolute, relative, False, None),
        BayesianResult(None, None),
        reading.withheld,
    )
