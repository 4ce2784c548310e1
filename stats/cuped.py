"""CUPED: variance reduction with pre-exposure covariates, slopes pooled over arms.

For each arm i with metric y and covariate x the adjusted mean is
``mean(y_i) - theta * (mean(x_i) - mean(x))`` where ``mean(x)`` is the covariate
mean over all arms and ``theta`` is the pooled within-arm slope
``sum_i (n_i - 1) cov_i(x, y) / sum_i (n_i - 1) var_i(x)``. The difference of
adjusted means equals the treatment coefficient of the regression
``y ~ 1 + treatment + x``.

A ratio metric R = sum(Y) / sum(X) enters through its delta-method linearisation
``y = (Y - R X) / mean(X)`` per unit (mean 0, the variance the delta method
uses), so the same adjustment applies to it with ``cov(x, y) = (sum(Y x) - R
sum(X x)) / mean(X) / (n - 1)``. Given its pre-exposure denominator too (for AOV: the
unit's orders before exposure, beside its revenue before), a ratio is adjusted on both
covariates at once: theta is the 2-vector solving the pooled within-arm normal equations
``S_xx theta = S_xy``, the regression ``y ~ 1 + treatment + x1 + x2`` (Deng, Knoblich, Lu
2018 adjust the linearisation in the same way). Units without an order now carry no
spread in y, and the pre-period orders are what predict whether a unit orders at all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from stats.estimates import ArmEstimate
from stats.types import CovariateStats, RatioStats, VariantInput

# Below this 1 - r^2 (r: the covariates' pooled within-arm correlation), the two covariates are
# taken as collinear and the first is used alone.
_COLLINEAR = 1e-10


class _Moments(NamedTuple):
    """An arm's centred sums: (n-1) var(y), (n-1) var(x) and (n-1) cov(x, y) for the first
    covariate; the second covariate's (n-1) var(x2), (n-1) cov(x2, y) and (n-1) cov(x, x2)
    (all 0 without one)."""

    ss_y: float
    ss_x: float
    sp_xy: float
    ss_x2: float = 0.0
    sp_x2y: float = 0.0
    sp_xx2: float = 0.0


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
        return _Moments(ss_y, ss_x, cross / mean_denominator, *_second(covariate, stats))
    total_y = stats.total
    ss_y = max(stats.sum_squares - total_y * total_y / n, 0.0)
    sp_xy = covariate.covariate_cross_sum - total_x * total_y / n
    return _Moments(ss_y, ss_x, sp_xy)


def _second(covariate: CovariateStats, stats: RatioStats) -> tuple[float, float, float]:
    """The pre-exposure denominator's moments with the linearised ratio and the first
    covariate: (n-1) var(x2), (n-1) cov(x2, y), (n-1) cov(x, x2)."""
    n = stats.n
    total = covariate.pre_denominator_sum
    ss_x2 = max(covariate.pre_denominator_sum_squares - total * total / n, 0.0)
    cross = (
        covariate.pre_denominator_cross_sum
        - stats.mean * covariate.pre_denominator_denominator_cross_sum
    )
    sp_xx2 = covariate.covariate_pre_denominator_cross_sum - covariate.covariate_sum * total / n
    return ss_x2, cross / (stats.denominator_sum / n), sp_xx2


def pooled_theta(moments: Sequence[_Moments]) -> tuple[float, float]:
    """Pooled within-arm regression slopes of the metric on the covariates: (theta1, theta2),
    theta2 = 0 without a usable second covariate, both 0 if the first is constant too.

    The two-covariate system is solved on the standardised covariates (their correlation r and
    the metric's standardised cross products), so sums in tiny or huge units neither underflow
    nor overflow in the products of the normal equations."""
    ss_x = sum(arm.ss_x for arm in moments)
    sp_xy = sum(arm.sp_xy for arm in moments)
    ss_x2 = sum(arm.ss_x2 for arm in moments)
    if ss_x2 > 0 and ss_x > 0:
        scale_x, scale_x2 = math.sqrt(ss_x), math.sqrt(ss_x2)
        r = sum(arm.sp_xx2 for arm in moments) / scale_x / scale_x2
        if 1.0 - r * r > _COLLINEAR:
            u1 = sp_xy / scale_x
            u2 = sum(arm.sp_x2y for arm in moments) / scale_x2
            spread = 1.0 - r * r
            return (u1 - r * u2) / spread / scale_x, (u2 - r * u1) / spread / scale_x2
    return (sp_xy / ss_x if ss_x > 0 else 0.0), 0.0


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
    theta, theta2 = pooled_theta([arm for arm in moments if arm is not None])
    units = sum(variant.stats.n for variant in variants)
    grand_mean_x = sum(_covariate_sum(variant) for variant in variants) / units
    grand_mean_x2 = sum(_pre_denominator_sum(variant) for variant in variants) / units
    estimates = []
    for variant, arm, plain in zip(variants, moments, raw, strict=True):
        if arm is None or plain.mean is None:  # the same arms: those with an undefined mean
            estimates.append(plain)
            continue
        n = variant.stats.n
        residual_ss = arm.ss_y - 2.0 * theta * arm.sp_xy + theta * theta * arm.ss_x
        mean_x = _covariate_sum(variant) / n
        adjusted = plain.mean - theta * (mean_x - grand_mean_x)
        if theta2:
            residual_ss += theta2 * (
                theta2 * arm.ss_x2 - 2.0 * arm.sp_x2y + 2.0 * theta * arm.sp_xx2
            )
            adjusted -= theta2 * (_pre_denominator_sum(variant) / n - grand_mean_x2)
        estimates.append(ArmEstimate(adjusted, max(residual_ss, 0.0) / (n - 1) / n, n, plain.dof))
    return estimates


def _covariate_sum(variant: VariantInput) -> float:
    return 0.0 if variant.covariate is None else variant.covariate.covariate_sum


def _pre_denominator_sum(variant: VariantInput) -> float:
    return 0.0 if variant.covariate is None else variant.covariate.pre_denominator_sum


def variance_reduction(
    raw: tuple[ArmEstimate, ArmEstimate], adjusted: tuple[ArmEstimate, ArmEstimate]
) -> float:
    """Share of the variance of the difference removed by the adjustment (0 when none)."""
    before = raw[0].variance + raw[1].variance
    after = adjusted[0].variance + adjusted[1].variance
    return 1.0 - after / before if before > 0 else 0.0
