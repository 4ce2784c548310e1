"""``stats.cuped.adjusted_estimates`` over arrays of analyses (one row each, arms in columns),
with the scalar path's operations in the same order so each element is the same float; the
rows without CUPED sums keep their estimates."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from stats._bulk_arms import ArmSums
from stats._bulk_estimates import Arms, ratio_mean_and_variance
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


def _moments(kind: StatisticsKind, arms: ArmSums) -> _Moments:
    """``stats.cuped._moments`` of every arm of ``kind`` (meaningless where a ratio's mean is
    undefined)."""
    covariate, n = arms.covariate or {}, arms.n
    total_x = covariate["covariate_sum"]
    ss_x = py_max(covariate["covariate_sum_squares"] - total_x * total_x / n, 0.0)
    zeros = np.zeros_like(n)
    if kind is not StatisticsKind.RATIO:
        # A proportion's conversions, or a mean's sums.
        total_y, squares_y = arms.total, arms.squares
        ss_y = py_max(squares_y - total_y * total_y / n, 0.0)
        sp_xy = covariate["covariate_cross_sum"] - total_x * total_y / n
        return _Moments(ss_y, ss_x, sp_xy, zeros, zeros, zeros)
    ratio, variance = ratio_mean_and_variance(arms)
    mean_denominator = arms.denominator[0] / n
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
        cross2 / (arms.denominator[0] / n),
        sp_xx2,
    )


def _pooled(values: Floats, defined: Flags | None) -> Floats:
    """Python's ``sum`` over the arms with a defined mean (every arm with ``defined`` None),
    arm by arm in order."""
    total = np.zeros(values.shape[0])
    for arm in range(values.shape[1]):
        value = values[:, arm]
        total = total + (value if defined is None else np.where(defined[:, arm], value, 0.0))
    return total


def _theta(moments: _Moments, defined: Flags) -> tuple[Floats, Floats]:
    """``stats.cuped.pooled_theta`` of each analysis."""
    some: Flags | None = None if defined.all() else defined  # a proportion's, a mean's: all
    ss_x = _pooled(moments.ss_x, some)
    sp_xy = _pooled(moments.sp_xy, some)
    ss_x2 = _pooled(moments.ss_x2, some)
    scale_x, scale_x2 = np.sqrt(ss_x), np.sqrt(ss_x2)
    r = _pooled(moments.sp_xx2, some) / scale_x / scale_x2
    u1 = sp_xy / scale_x
    u2 = _pooled(moments.sp_x2y, some) / scale_x2
    spread = 1.0 - r * r
    both = (ss_x2 > 0) & (ss_x > 0) & (1.0 - r * r > _COLLINEAR)
    single = np.where(ss_x > 0, sp_xy / ss_x, 0.0)
    theta = np.where(both, (u1 - r * u2) / spread / scale_x, single)
    theta2 = np.where(both, (u2 - r * u1) / spread / scale_x2, 0.0)
    return theta, theta2


def adjusted(arms: ArmSums, raw: Arms) -> Arms:
    """The CUPED-adjusted estimates of the rows with CUPED sums (``raw`` in the others, and
    where an arm's mean is undefined)."""
    mean, variance = raw.mean.copy(), raw.variance.copy()
    for block in arms.blocks:
        rows = block.cuped
        if rows.stop > rows.start:
            part = Arms(
                raw.mean[rows], raw.defined[rows], raw.variance[rows], raw.n[rows], raw.dof[rows]
            )
            sums = arms.part(rows, covariate=True)
            mean[rows], variance[rows] = _adjusted(block.kind, sums, part)
    return raw._replace(mean=mean, variance=variance)


def _adjusted(kind: StatisticsKind, arms: ArmSums, raw: Arms) -> tuple[Floats, Floats]:
    """The adjusted means and variances of arms of ``kind`` with CUPED sums."""
    covariate, n = arms.covariate or {}, arms.n
    with np.errstate(all="ignore"):
        moments = _moments(kind, arms)
        theta, theta2 = (column[:, None] for column in _theta(moments, raw.defined))
        units = n.sum(axis=1, keepdims=True)  # exact: counts below 2^48
        grand_mean_x = _pooled(covariate["covariate_sum"], None)
        grand_mean_x2 = _pooled(covariate["pre_denominator_sum"], None)
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
    return np.where(raw.defined, mean, raw.mean), np.where(raw.defined, variance, raw.variance)
