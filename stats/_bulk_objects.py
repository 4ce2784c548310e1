"""The result objects of ``stats.bulk``, each comparison's (and each two-arm analysis's) in one
call: a ``map`` over the figures' columns calls these once per comparison, where one call per
object (and a list of each kind of object between them) cost a third more.

Each object is built as ``stats._builders`` builds it (a draft filled slot by slot, then given
its class), the named tuples through ``tuple.__new__``; the objects are equal field for field
to those ``analyze_stats`` builds.
"""

from __future__ import annotations

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

_tuple = tuple.__new__
_COMPARISON, _SEQUENTIAL, _BAYESIAN, _CUPED = map(
    draft, (Comparison, SequentialResult, BayesianResult, CupedResult)
)
_SUMMARY, _SRM, _ANALYSIS = map(draft, (VariantSummary, SrmResult, AnalysisResult))


def comparison(
    variant: str,
    baseline: str,
    estimate: float | None,
    relative_estimate: float | None,
    low: float | None,
    high: float | None,
    relative_low: float | None,
    relative_high: float | None,
    p_value: float | None,
    p_value_adjusted: float | None,
    significant: bool,
    late_p_value: float | None,
    late_low: float | None,
    late_high: float | None,
    late_relative_low: float | None,
    late_relative_high: float | None,
    late_significant: bool,
    late_p_value_adjusted: float | None,
    chance_to_beat: float | None,
    expected_loss: float | None,
    reason: Reason | None,
    variance_reduction: float | None,
) -> Comparison:
    """``Comparison`` of the figures (``late_``: the sequential reading's; the point estimates
    are the fixed and the sequential intervals' alike); no CUPED figure where
    ``variance_reduction`` is None."""
    late = _SEQUENTIAL()
    late.p_value = late_p_value
    late.absolute = _tuple(Interval, (estimate, late_low, late_high))
    late.relative = _tuple(Interval, (relative_estimate, late_relative_low, late_relative_high))
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
    built.absolute = _tuple(Interval, (estimate, low, high))
    built.relative = _tuple(Interval, (relative_estimate, relative_low, relative_high))
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
    read: Comparison,
) -> AnalysisResult:
    """``analysis`` of a control and one variant with their summaries, in one call (the
    look's analyses have two arms)."""
    first = variant_summary(control, control_n, control_mean, control_units, control_rule)
    second = variant_summary(variant, variant_n, variant_mean, variant_units, variant_rule)
    return analysis(kind, alpha, (first, second), srm_p_value, mismatch, (read,))
