"""The result objects of ``stats.bulk``, each comparison's (and each two-arm analysis's) in one
call: a ``map`` over the figures' columns calls these once per comparison, where one call per
object (and a list of each kind of object between them) cost a third more.

Each object is built as ``stats._builders`` builds it (a draft filled slot by slot, then given
its class), the intervals (named tuples) through ``tuple.__new__`` over their columns; the
objects are equal field for field to those ``analyze_stats`` builds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import repeat
from typing import Any

from stats._builders import draft
from stats.results import (
    AnalysisResult,
    BayesianResult,
    Comparison,
    CupedResult,
    Interval,
    SequentialResult,
    SrmResult,
    VariantSummary,
)
from stats.types import Reason, StatisticsKind

_COMPARISON, _SEQUENTIAL, _BAYESIAN, _CUPED = map(
    draft, (Comparison, SequentialResult, BayesianResult, CupedResult)
)
_SUMMARY, _SRM, _ANALYSIS = map(draft, (VariantSummary, SrmResult, AnalysisResult))


def comparison(
    variant: str,
    baseline: str,
    absolute: Interval,
    relative: Interval,
    p_value: float | None,
    p_value_adjusted: float | None,
    significant: bool,
    late_p_value: float | None,
    late_absolute: Interval,
    late_relative: Interval,
    late_significant: bool,
    late_p_value_adjusted: float | None,
    chance_to_beat: float | None,
    expected_loss: float | None,
    reason: Reason | None,
    variance_reduction: float | None,
) -> Comparison:
    """``Comparison`` of the figures (``late_``: the sequential reading's); no CUPED figure
    where ``variance_reduction`` is None."""
    late = _SEQUENTIAL()
    late.p_value = late_p_value
    late.absolute = late_absolute
    late.relative = late_relative
    late.significant = late_significant
    late.p_value_adjusted = late_p_value_adjusted
    late.__class__ = SequentialResult
    bayesian = _BAYESIAN()
    bayesian.chance_to_beat = chance_to_beat
    bayesian.expected_loss = expected_loss
    bayesian.__class__ = BayesianResult
    cuped = None
    if variance_reduction is not None:
        cuped = _CUPED()
        cuped.variance_reduction = variance_reduction
        cuped.__class__ = CupedResult
    built = _COMPARISON()
    built.variant = variant
    built.baseline = baseline
    built.absolute = absolute
    built.relative = relative
    built.p_value = p_value
    built.p_value_adjusted = p_value_adjusted
    built.significant = significant
    built.sequential = late
    built.bayesian = bayesian
    built.reason = reason
    built.cuped = cuped
    built.__class__ = Comparison
    return built  # type: ignore[no-any-return]


def variant_summary(
    key: str, n: int, mean: float | None, units: float | None, rule: str | None
) -> VariantSummary:
    """``VariantSummary(key, n, mean, units, rule)``."""
    built = _SUMMARY()
    built.key = key
    built.n = n
    built.mean = mean
    built.effective_units = units
    built.effective_units_rule = rule
    built.__class__ = VariantSummary
    return built  # type: ignore[no-any-return]


def analysis(
    kind: StatisticsKind,
    alpha: float,
    variants: tuple[VariantSummary, ...],
    srm_p_value: float,
    mismatch: bool,
    comparisons: tuple[Comparison, ...],
) -> AnalysisResult:
    """``AnalysisResult`` with ``SrmResult(srm_p_value, mismatch)``."""
    srm = _SRM()
    srm.p_value = srm_p_value
    srm.mismatch = mismatch
    srm.__class__ = SrmResult
    built = _ANALYSIS()
    built.kind = kind
    built.alpha = alpha
    built.variants = variants
    built.srm = srm
    built.comparisons = comparisons
    built.__class__ = AnalysisResult
    return built  # type: ignore[no-any-return]


def two_arms(
    kind: StatisticsKind,
    alpha: float,
    control: str,
    variant: str,
    control_n: int,
    variant_n: int,
    control_mean: float | None,
    variant_mean: float | None,
    control_units: float | None,
    variant_units: float | None,
    control_rule: str | None,
    variant_rule: str | None,
    srm_p_value: float,
    mismatch: bool,
    absolute: Interval,
    relative: Interval,
    p_value: float | None,
    p_value_adjusted: float | None,
    significant: bool,
    late_p_value: float | None,
    late_absolute: Interval,
    late_relative: Interval,
    late_significant: bool,
    late_p_value_adjusted: float | None,
    chance_to_beat: float | None,
    expected_loss: float | None,
    reason: Reason | None,
    variance_reduction: float | None,
) -> AnalysisResult:
    """``analysis`` of a control and one variant: their ``variant_summary``s and the
    ``comparison`` of the variant (its figures after ``mismatch``, in ``comparison``'s order),
    in one call. The look's analyses have two arms: the four nested calls this body spares
    cost some 2,300 instructions per analysis (7 % of its objects')."""
    late = _SEQUENTIAL()
    late.p_value = late_p_value
    late.absolute = late_absolute
    late.relative = late_relative
    late.significant = late_significant
    late.p_value_adjusted = late_p_value_adjusted
    late.__class__ = SequentialResult
    bayesian = _BAYESIAN()
    bayesian.chance_to_beat = chance_to_beat
    bayesian.expected_loss = expected_loss
    bayesian.__class__ = BayesianResult
    cuped = None
    if variance_reduction is not None:
        cuped = _CUPED()
        cuped.variance_reduction = variance_reduction
        cuped.__class__ = CupedResult
    read = _COMPARISON()
    read.variant = variant
    read.baseline = control
    read.absolute = absolute
    read.relative = relative
    read.p_value = p_value
    read.p_value_adjusted = p_value_adjusted
    read.significant = significant
    read.sequential = late
    read.bayesian = bayesian
    read.reason = reason
    read.cuped = cuped
    read.__class__ = Comparison
    first = _SUMMARY()
    first.key = control
    first.n = control_n
    first.mean = control_mean
    first.effective_units = control_units
    first.effective_units_rule = control_rule
    first.__class__ = VariantSummary
    second = _SUMMARY()
    second.key = variant
    second.n = variant_n
    second.mean = variant_mean
    second.effective_units = variant_units
    second.effective_units_rule = variant_rule
    second.__class__ = VariantSummary
    srm = _SRM()
    srm.p_value = srm_p_value
    srm.mismatch = mismatch
    srm.__class__ = SrmResult
    built = _ANALYSIS()
    built.kind = kind
    built.alpha = alpha
    built.variants = (first, second)
    built.srm = srm
    built.comparisons = (read,)
    built.__class__ = AnalysisResult
    return built  # type: ignore[no-any-return]


def intervals(
    estimates: Iterable[Any], lows: Iterable[Any], highs: Iterable[Any]
) -> Iterator[Interval]:
    """``Interval(estimate, low, high)`` of each comparison, built in C (``tuple.__new__`` over
    ``zip``): some 400 instructions less per interval than in the body of ``two_arms``."""
    return map(tuple.__new__, repeat(Interval), zip(estimates, lows, highs, strict=True))
