"""``analyze``: the library entry point that the API, the CLI and the results pipeline share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from stats import _builders as build
from stats.bayesian import gaussian_reading
from stats.checks import check_inputs
from stats.corrections import adjust, interval_level
from stats.cuped import adjusted_estimates, variance_reduction
from stats.estimates import ESTIMATORS, ArmEstimate
from stats.fixed import FixedReading, welch_test
from stats.gates import SpreadUnits, UnitsRule, spread_units
from stats.pairs import PairReading, read_pair
from stats.results import (
    UNDEFINED_INTERVAL,
    AnalysisResult,
    BayesianResult,
    Comparison,
    CupedResult,
    Interval,
    VariantSummary,
)
from stats.sequential import DEFAULT_PLANNED_UNITS_PER_VARIANT, mixture_sprt
from stats.srm import sample_ratio_check
from stats.types import (
    DEFAULT_MINIMUMS,
    Alternative,
    AnalysisOptions,
    Correction,
    Minimums,
    Prior,
    StatisticsKind,
    VariantInput,
)
from stats.validation import (
    parse_alpha,
    parse_alternative,
    parse_correction,
    parse_kind,
    parse_minimums,
    parse_planned_units,
    parse_prior,
    parse_variants,
    parse_weights,
)

_NO_BAYESIAN = BayesianResult(None, None)
# Read once: each enum member lookup (and `.value`) costs 70-190 ns on Python 3.11.
_PROPORTION, _ALL_UNITS = StatisticsKind.PROPORTION, UnitsRule.ALL_UNITS
_RULE_NAMES = {rule: rule.value for rule in UnitsRule}
_DEFAULT_OPTIONS = AnalysisOptions()


def analyze(
    kind: StatisticsKind | str,
    variants: Sequence[Mapping[str, Any]],
    *,
    alpha: float = 0.05,
    alternative: Alternative | str = Alternative.TWO_SIDED,
    planned_units_per_variant: int | None = None,
    correction: Correction | str = Correction.HOLM,
    prior: Prior | Mapping[str, Any] | None = None,
    weights: Sequence[float] | None = None,
    minimums: Minimums | Mapping[str, Any] | None = None,
) -> AnalysisResult:
    """Compare each variant with the first (the control): fixed, sequential and Bayesian readings.

    ``variants`` holds one request-shaped mapping of sufficient statistics per variant, with
    the fields of ``kind`` (see ``stats.types``) and an optional ``key``; the options are those
    of ``AnalysisOptions``. Raises ``StatsInputError`` naming the offending field for invalid
    input; degenerate or too thin data gives a comparison that carries a ``reason`` and is
    never significant.
    """
    metric_kind = parse_kind(kind)
    parsed = parse_variants(metric_kind, variants)
    options = build.analysis_options(
        alpha, alternative, planned_units_per_variant, correction, prior, weights, minimums
    )
    return _analyze(metric_kind, parsed, options)


def analyze_stats(
    variants: Sequence[VariantInput], options: AnalysisOptions = _DEFAULT_OPTIONS
) -> AnalysisResult:
    """``analyze`` for typed variants (``ProportionStats``, ``MeanStats`` or ``RatioStats`` per
    ``VariantInput``, first = control): checked by the same rules, nothing parsed."""
    return _analyze(check_inputs(variants), variants, options)


def _analyze(
    metric_kind: StatisticsKind, parsed: Sequence[VariantInput], options: AnalysisOptions
) -> AnalysisResult:
    level = parse_alpha(options.alpha)
    side = parse_alternative(options.alternative)
    planned = parse_planned_units(
        options.planned_units_per_variant, DEFAULT_PLANNED_UNITS_PER_VARIANT
    )
    # Options left at None (the usual request) need no parsing call.
    prior_checked = None if options.prior is None else parse_prior(options.prior)
    family = parse_correction(options.correction)
    least = DEFAULT_MINIMUMS if options.minimums is None else parse_minimums(options.minimums)
    designed = parse_weights(options.weights, len(parsed))
    count = len(parsed) - 1  # comparisons with the control

    estimator = ESTIMATORS[metric_kind]
    spreads = list(map(spread_units, parsed))
    raw = list(map(estimator, parsed, spreads))
    with_cuped = parsed[0].covariate is not None
    estimates = adjusted_estimates(parsed, raw) if with_cuped else raw

    pairs = []
    readings: list[FixedReading | None] = []
    for index in range(1, len(parsed)):
        pair = read_pair(
            (parsed[0], parsed[index]),
            (estimates[0], estimates[index]),
            least,
            (spreads[0].units, spreads[index].units),
        )
        pairs.append(pair)
        readings.append(
            None if pair.withheld else welch_test(pair.control, pair.treatment, level, side)
        )
    p_values = [None if r is None else r.p_value for r in readings]
    # Every correction leaves a family of one unchanged: two-arm tests, the norm, skip the call.
    adjusted = p_values if count == 1 else adjust(p_values, family)

    comparisons = []
    for index in range(1, len(parsed)):
        pair, reading, p_adjusted = pairs[index - 1], readings[index - 1], adjusted[index - 1]
        cuped = None
        if with_cuped:
            # Agresti-Caffo estimates replace the adjusted ones: then nothing was removed.
            used = pair.control is estimates[0]
            removed = (raw[0], raw[index]), (estimates[0], estimates[index])
            cuped = build.cuped_result(variance_reduction(*removed) if used else 0.0)
        variant, baseline = parsed[index].key, parsed[0].key
        if reading is None or p_adjusted is None:
            comparisons.append(_withheld((variant, baseline), pair, cuped))
            continue
        if count > 1:
            # Intervals at the level that agrees with the adjusted p-value.
            matching = interval_level(level, reading.p_value, p_adjusted, count)
            reading = welch_test(pair.control, pair.treatment, matching, side)
        relative = UNDEFINED_INTERVAL if reading.relative is None else reading.relative
        sequential = mixture_sprt(
            pair.control, pair.treatment, level, side, planned, count, reading.dof
        )
        if metric_kind is _PROPORTION:
            relative = _no_lower_than_minus_one(relative)
            clipped = _no_lower_than_minus_one(sequential.relative)
            if clipped is not sequential.relative:
                sequential = replace(sequential, relative=clipped)
        comparisons.append(
            build.comparison(
                variant,
                baseline,
                reading.absolute,
                relative,
                reading.p_value,
                p_adjusted,
                p_adjusted < level,
                sequential,
                gaussian_reading(pair.control, pair.treatment, prior_checked, side),
                pair.reason or reading.reason,
                cuped,
            )
        )
    return build.analysis_result(
        metric_kind,
        level,
        tuple(map(_summary, parsed, raw, spreads)),
        sample_ratio_check([variant.stats.n for variant in parsed], designed),
        tuple(comparisons),
    )


def _summary(variant: VariantInput, estimate: ArmEstimate, units: SpreadUnits) -> VariantSummary:
    """The variant's units and mean, with the units its spread was read from (mean, ratio;
    ``units``: its ``spread_units``)."""
    if units.rule is _ALL_UNITS:
        return build.variant_summary(variant.key, variant.stats.n, estimate.mean, None, None)
    return build.variant_summary(
        variant.key, variant.stats.n, estimate.mean, units.units, _RULE_NAMES[units.rule]
    )


def _no_lower_than_minus_one(relative: Interval) -> Interval:
    """A rate cannot fall by more than 100 %: Fieller's bound below that is cut at -1 (which
    does not change whether the interval excludes 0); ``relative`` itself when it is not
    below."""
    low = relative.ci_low
    if low is not None and low < -1.0:
        return Interval(relative.estimate, -1.0, relative.ci_high)
    return relative


def _withheld(keys: tuple[str, str], pair: PairReading, cuped: CupedResult | None) -> Comparison:
    """A comparison without a reading: point estimates only, no bounds, never significant."""
    control, treatment = pair.control.mean, pair.treatment.mean
    absolute = UNDEFINED_INTERVAL
    relative = UNDEFINED_INTERVAL
    if control is not None and treatment is not None:
        absolute = Interval(treatment - control, None, None)
        if control != 0:
            relative = Interval(treatment / control - 1.0, None, None)
    return build.comparison(
        *keys,
        absolute,
        relative,
        None,
        None,
        False,
        build.sequential_result(None, absolute, relative, False, None),
        _NO_BAYESIAN,
        pair.reason,
        cuped,
    )
