"""CUPED: variance reduction with a pre-exposure covariate, theta pooled over arms.

For each arm i with metric y and covariate x the adjusted mean is
``mean(y_i) - theta * (mean(x_i) - mean(x))`` where ``mean(x)`` is the covariate
mean over all arms and ``theta`` is the pooled within-arm slope
``sum_i (n_i - 1) cov_i(x, y) / sum_i (n_i - 1) var_i(x)``. The difference of
adjusted means equals the treatment coefficient of the regression
``y ~ 1 + treatment + x``.

A ratio metric R = sum(Y) / sum(X) enters through its delta-method linearisation
``y = (Y - R X) / mean(X)`` per unit (mean 0, the variance the delta method
uses), so the same adjustment applies to it with ``cov(x, y) = (sum(Y x) - R
sum(X x)) / mean(X) / (n - 1)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from stats.estimates import ArmEstimate
from stats.types import RatioStats, VariantInput


class _Moments(NamedTuple):
    """An arm's centred sums: (n-1) var(y), (n-1) var(x) and (n-1) cov(x, y)."""

    ss_y: float
    ss_x: float
    sp_xy: float


def _moments(variant: VariantInput) -> _Moments:
    """The arm's moments; for a ratio only where its mean is defined (denominator mean not 0)."""
    covariate = variant.covariate
    if covariate is None:
        raise ValueError("CUPED needs a covariate in every variant")
    stats = variant.stats
    n = stats.n
    total_x = covariate.covariate_sum
    ss_x = max(covariate.covariate_sum_squares - total_x * total_x / n, 0.0)
    if isinstance(stats, RatioStats):
        ratio = stats.mean
        mean_denominator = stats.denominator_sum / n
        ss_y = stats.variance * (n - 1)
        cross = covariate.covariate_cross_sum - ratio * covariate.covariate_denominator_cross_sum
        return _Moments(ss_y, ss_x, cross / mean_denominator)
    total_y = stats.total
    ss_y = max(stats.sum_squares - total_y * total_y / n, 0.0)
    sp_xy = covariate.covariate_cross_sum - total_x * total_y / n
    return _Moments(ss_y, ss_x, sp_xy)


def pooled_theta(moments: Sequence[_Moments]) -> float:
    """Pooled within-arm regression slope of the metric on the covariate (0 if x is constant)."""
    ss_x_total = 0.0
    sp_total = 0.0
    for arm in moments:
        ss_x_total += arm.ss_x
        sp_total += arm.sp_xy
    return sp_total / ss_x_total if ss_x_total > 0 else 0.0


def adjusted_estimates(
    variants: Sequence[VariantInput], raw: Sequence[ArmEstimate]
) -> list[ArmEstimate]:
    """CUPED-adjusted mean and variance of the mean for each variant (``raw``: unadjusted). An
    arm whose mean is undefined (a ratio whose denominator sums to 0) keeps its raw estimate and
    takes no part in theta."""
    moments = [
        None if plain.mean is None else _moments(variant)
        for variant, plain in zip(variants, raw, strict=True)
    ]
    theta = pooled_theta([arm for arm in moments if arm is not None])
    units = sum(variant.stats.n for variant in variants)
    grand_mean_x = sum(_covariate_sum(variant) for variant in variants) / units
    estimates = []
    for variant, arm, plain in zip(variants, moments, raw, strict=True):
        if arm is None or plain.mean is None:  # the same arms: those with an undefined mean
            estimates.append(plain)
            continue
        n = variant.stats.n
        residual_ss = max(arm.ss_y - 2.0 * theta * arm.sp_xy + theta * theta * arm.ss_x, 0.0)
        mean_x = _covariate_sum(variant) / n
        adjusted = plain.mean - theta * (mean_x - grand_mean_x)
        estimates.append(ArmEstimate(adjusted, residual_ss / (n - 1) / n, n, plain.dof))
    return estimates


def _covariate_sum(variant: VariantInput) -> float:
    return 0.0 if variant.covariate is None else variant.covariate.covariate_sum


def variance_reduction(
    raw: tuple[ArmEstimate, ArmEstimate], adjusted: tuple[ArmEstimate, ArmEstimate]
) -> float:
    """Share of the variance of the difference removed by the adjustment (0 when none)."""
    before = raw[0].variance + raw[1].variance
    after = adjusted[0].variance + adjusted[1].variance
    return 1.0 - after / before if before > 0 else 0.0
