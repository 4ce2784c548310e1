"""``analyze``: the library entry point that the API, the CLI and the results pipeline share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stats.bayesian import gaussian_reading
from stats.corrections import adjust
from stats.cuped import adjusted_estimates, variance_reduction
from stats.estimates import ESTIMATORS, ArmEstimate, is_proportion_without_conversions
from stats.fixed import FixedReading, welch_test
from stats.results import (
    UNDEFINED_INTERVAL,
    AnalysisResult,
    BayesianResult,
    Comparison,
    CupedResult,
    SequentialResult,
    VariantSummary,
)
from stats.sequential import DEFAULT_PLANNED_UNITS_PER_VARIANT, mixture_sprt
from stats.srm import sample_ratio_check
from stats.types import Alternative, Correction, MetricKind, Prior, Reason, VariantInput
from stats.validation import (
    parse_alpha,
    parse_alternative,
    parse_correction,
    parse_kind,
    parse_planned_units,
    parse_prior,
    parse_variants,
    parse_weights,
)

_UNDEFINED_SEQUENTIAL = SequentialResult(None, UNDEFINED_INTERVAL, UNDEFINED_INTERVAL, False)


def analyze(
    kind: MetricKind | str,
    variants: Sequence[Mapping[str, Any]],
    *,
    alpha: float = 0.05,
    alternative: Alternative | str = Alternative.TWO_SIDED,
    planned_units_per_variant: int | None = None,
    correction: Correction | str = Correction.HOLM,
    prior: Prior | Mapping[str, Any] | None = None,
    weights: Sequence[float] | None = None,
) -> AnalysisResult:
    """Compare each variant with the first (the control): fixed, sequential and Bayesian readings.

    ``variants`` holds one mapping of sufficient statistics per variant, with the
    fields of ``kind`` (see ``stats.types``) and an optional ``key``. Raises
    ``StatsInputError`` naming the offending field for invalid input; degenerate
    but valid data gives a result whose comparisons carry a ``reason``.
    """
    metric_kind = parse_kind(kind)
    parsed = parse_variants(metric_kind, variants)
    level = parse_alpha(alpha)
    side = parse_alternative(alternative)
    family = parse_correction(correction)
    planned = parse_planned_units(planned_units_per_variant, DEFAULT_PLANNED_UNITS_PER_VARIANT)
    prior_checked = parse_prior(prior)
    designed = parse_weights(weights, len(parsed))

    estimator = ESTIMATORS[metric_kind]
    raw = [estimator(variant.stats) for variant in parsed]
    with_cuped = parsed[0].covariate is not None
    estimates = adjusted_estimates(parsed) if with_cuped else raw

    control = estimates[0]
    readings = [_fixed_reading(control, treatment, level, side) for treatment in estimates[1:]]
    adjusted = adjust([None if r is None else r.p_value for r in readings], family)

    comparisons = []
    for index, reading in enumerate(readings, start=1):
        treatment = estimates[index]
        cuped = (
            CupedResult(variance_reduction((raw[0], raw[index]), (control, treatment)))
            if with_cuped
            else None
        )
        comparisons.append(
            _comparison(
                (parsed[0], parsed[index]),
                (control, treatment),
                reading,
                adjusted[index - 1],
                (level, side, planned, prior_checked),
                cuped,
            )
        )
    return AnalysisResult(
        metric_kind,
        level,
        tuple(
            VariantSummary(variant.key, variant.stats.n, estimate.mean)
            for variant, estimate in zip(parsed, raw, strict=True)
        ),
        sample_ratio_check([variant.stats.n for variant in parsed], designed),
        tuple(comparisons),
    )


def _fixed_reading(
    control: ArmEstimate, treatment: ArmEstimate, alpha: float, alternative: Alternative
) -> FixedReading | None:
    if control.mean is None or treatment.mean is None:
        return None
    return welch_test(control, treatment, alpha, alternative)


def _comparison(
    inputs: tuple[VariantInput, VariantInput],
    arms: tuple[ArmEstimate, ArmEstimate],
    reading: FixedReading | None,
    p_value_adjusted: float | None,
    options: tuple[float, Alternative, int, Prior | None],
    cuped: CupedResult | None,
) -> Comparison:
    baseline, variant = inputs
    control, treatment = arms
    alpha, alternative, planned, prior = options
    if reading is None or p_value_adjusted is None:
        return Comparison(
            variant.key,
            baseline.key,
            UNDEFINED_INTERVAL,
            UNDEFINED_INTERVAL,
            None,
            None,
            False,
            _UNDEFINED_SEQUENTIAL,
            BayesianResult(None, None),
            Reason.DENOMINATOR_ZERO,
            cuped,
        )
    reason = reading.reason
    if is_proportion_without_conversions(baseline.stats) and is_proportion_without_conversions(
        variant.stats
    ):
        reason = Reason.NO_CONVERSIONS
    return Comparison(
        variant.key,
        baseline.key,
        reading.absolute,
        UNDEFINED_INTERVAL if reading.relative is None else reading.relative,
        reading.p_value,
        p_value_adjusted,
        p_value_adjusted < alpha,
        mixture_sprt(control, treatment, alpha, alternative, planned),
        gaussian_reading(control, treatment, prior, alternative),
        reason,
        cuped,
    )
