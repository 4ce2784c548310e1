"""``stats.cuped.adjusted_estimates`` over arrays of analyses (one row each, arms in columns),
with the scalar path's operations in the same order so each element is the same float."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from stats._bulk_arms import Arms, ArmSums, ratio_mean_and_variance
from stats._vector import Flags, Floats, py_max
from stats.types import StatisticsKind

_COLLINEAR = 1e-10  # stats.cuped._COLLINEAR


class _Moments(NamedTuple):
    ss_y: Floats
    ss_x: Floats
    sp_xy: Floats
    ss_x2: Floats
    sp_x2y: Floats
    sp_xx2: Floats


def _moments(arms: ArmSums) -> _Moments:
    """``stats.cuped._moments`` of every arm (meaningless where a ratio's mean is undefined)."""
    covariate, n = arms.covariate or {}, arms.n
    total_x = covariate["covariate_sum"]
    ss_x = py_max(covariate["covariate_sum_squares"] - total_x * total_x / n, 0.0)
    zeros = np.zeros_like(n)
    if arms.kind is not StatisticsKind.RATIO:
        if arms.kind is StatisticsKind.PROPORTION:
            total_y, squares_y = arms.conversions, arms.conversions
        else:
            total_y, squares_y = arms.sums["sum"], arms.sums["sum_squares"]
        ss_y = py_max(squares_y - total_y * total_y / n, 0.0)
        sp_xy = covariate["covariate_cross_sum"] - total_x * total_y / n
        return _Moments(ss_y, ss_x, sp_xy, zeros, zeros, zeros)
    ratio, variance = ratio_mean_and_variance(arms)
    mean_denominator = arms.sums["denominator_sum"] / n
    ss_y = variance * (n - 1)
    cross = covariate["covariate_cross_sum"] - ratio * covariate["covariate_denominator_cross_sum"]
    total = covariate["pre_denominator_sum"]
    ss_x2 = py_max(covariate["pre_denominator_sum_squares"] - total * total / n, 0.0)
    cross2 = (
        covariate["pre_denominator_cross_sum"]
        - ratio * covariate["pre_denominator_denominator_cross_sum"]
    )
    sp_xx2 = covariate["covariate_pre_denominator_cross_sum"] - total_x * total / n
    return _Moments(
        ss_y,
        ss_x,
        cross / mean_denominator,
        ss_x2,
        cross2 / (arms.sums["denominator_sum"] / n),
        sp_xx2,
    )


def _pooled(values: Floats, defined: Flags) -> Floats:
    """Python's ``sum`` over the arms with a defined mean, arm by arm in order."""
    total = np.zeros(values.shape[0])
    for arm in range(values.shape[1]):
        total = total + np.where(defined[:, arm], values[:, arm], 0.0)
    return total


def _theta(moments: _Moments, defined: Flags) -> tuple[Floats, Floats]:
    """``stats.cuped.pooled_theta`` of each analysis."""
    ss_x = _pooled(moments.ss_x, defined)
    sp_xy = _pooled(moments.sp_xy, defined)
    ss_x2 = _pooled(moments.ss_x2, defined)
    scale_x, scale_x2 = np.sqrt(ss_x), np.sqrt(ss_x2)
    r = _pooled(moments.sp_xx2, defined) / scale_x / scale_x2
    u1 = sp_xy / scale_x
    u2 = _pooled(moments.sp_x2y, defined) / scale_x2
    spread = 1.0 - r * r
    both = (ss_x2 > 0) & (ss_x > 0) & (1.0 - r * r > _COLLINEAR)
    single = np.where(ss_x > 0, sp_xy / ss_x, 0.0)
    theta = np.where(both, (u1 - r * u2) / spread / scale_x, single)
    theta2 = np.where(both, (u2 - r * u1) / spread / scale_x2, 0.0)
    return theta, theta2


def adjusted(arms: ArmSums, raw: Arms) -> Arms:
    """The CUPED-adjusted estimates (``raw`` where an arm's mean is undefined)."""
    covariate, n = arms.covariate or {}, arms.n
    with np.errstate(all="ignore"):
        moments = _moments(arms)
        theta, theta2 = (column[:, None] for column in _theta(moments, raw.defined))
        units = n.sum(axis=1, keepdims=True)  # exact: counts below 2^48
        grand_mean_x = _pooled(covariate["covariate_sum"], np.ones_like(n, dtype=bool))
        grand_mean_x2 = _pooled(covariate["pre_denominator_sum"], np.ones_like(n, dtype=bool))
        grand_mean_x = grand_mean_x[:, None] / units
        grand_mean_x2 = grand_mean_x2[:, None] / units
        residual = moments.ss_y - 2.0 * theta * moments.sp_xy + theta * theta * moments.ss_x
        mean = raw.mean - theta * (covariate["covariate_sum"] / n - grand_mean_x)
        second = theta2 != 0
        residual = np.where(
            second,
            residual
            + theta2
            * (theta2 * moments.ss_x2 - 2.0 * moments.sp_x2y + 2.0 * theta * moments.sp_xx2),
            residual,
        )
        mean = np.where(
            second,
            mean - theta2 * (covariate["pre_denominator_sum"] / n - grand_mean_x2),
            mean,
        )
        variance = py_max(residual, 0.0) / (n - 1) / n
    return Arms(
        np.where(raw.defined, mean, raw.mean),
        raw.defined,
        np.where(raw.defined, variance, raw.variance),
        n,
        raw.dof,
    )
