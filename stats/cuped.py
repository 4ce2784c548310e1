"""CUPED: variance reduction with a pre-exposure covariate, theta pooled over arms.

For each arm i with metric y and covariate x the adjusted mean is
``mean(y_i) - theta * (mean(x_i) - mean(x))`` where ``mean(x)`` is the covariate
mean over all arms and ``theta`` is the pooled within-arm slope
``sum_i (n_i - 1) cov_i(x, y) / sum_i (n_i - 1) var_i(x)``. The difference of
adjusted means equals the treatment coefficient of the regression
``y ~ 1 + treatment + x``.
"""

from __future__ import annotations

from collections.abc import Sequence

from stats.estimates import ArmEstimate, per_unit_moments
from stats.types import VariantInput


def _centred_moments(variant: VariantInput) -> tuple[float, float, float]:
    """(n-1) times var(y), var(x) and cov(x, y) of one arm."""
    covariate = variant.covariate
    if covariate is None:
        raise ValueError("CUPED needs a covariate in every variant")
    n = variant.stats.n
    total_y, squares_y = per_unit_moments(variant.stats)
    total_x = covariate.covariate_sum
    ss_y = max(squares_y - total_y * total_y / n, 0.0)
    ss_x = max(covariate.covariate_sum_squares - total_x * total_x / n, 0.0)
    sp_xy = covariate.covariate_cross_sum - total_x * total_y / n
    return ss_y, ss_x, sp_xy


def pooled_theta(variants: Sequence[VariantInput]) -> float:
    """Pooled within-arm regression slope of the metric on the covariate (0 if x is constant)."""
    ss_x_total = 0.0
    sp_total = 0.0
    for variant in variants:
        _, ss_x, sp_xy = _centred_moments(variant)
        ss_x_total += ss_x
        sp_total += sp_xy
    return sp_total / ss_x_total if ss_x_total > 0 else 0.0


def adjusted_estimates(variants: Sequence[VariantInput]) -> list[ArmEstimate]:
    """CUPED-adjusted mean and variance of the mean for each variant."""
    theta = pooled_theta(variants)
    units = sum(variant.stats.n for variant in variants)
    grand_mean_x = sum(_covariate_sum(variant) for variant in variants) / units
    estimates = []
    for variant in variants:
        n = variant.stats.n
        ss_y, ss_x, sp_xy = _centred_moments(variant)
        residual_ss = max(ss_y - 2.0 * theta * sp_xy + theta * theta * ss_x, 0.0)
        mean_y = per_unit_moments(variant.stats)[0] / n
        mean_x = _covariate_sum(variant) / n
        adjusted = mean_y - theta * (mean_x - grand_mean_x)
        estimates.append(ArmEstimate(adjusted, residual_ss / (n - 1) / n, n))
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
