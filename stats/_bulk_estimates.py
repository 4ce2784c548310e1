"""The estimates of ``stats.estimates`` and the units of ``stats.gates.spread_units`` over the
arrays of ``stats._bulk_arms`` (one row per analysis, sorted by kind; one column per arm), each
kind's formula on its rows, with the scalar one's operations in the same order."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from stats._bulk_arms import ArmSums
from stats._vector import Flags, Floats, py_max, py_min
from stats.types import StatisticsKind


class Arms(NamedTuple):
    """Each arm's estimate (``stats.estimates.ArmEstimate``); ``mean`` is 0 where undefined."""

    mean: Floats
    defined: Flags
    variance: Floats
    n: Floats
    dof: Floats


def spread_units(arms: ArmSums) -> Floats:
    """``stats.gates.spread_units`` of every arm (``nonzero_units``, Kish's count or ``n``)."""
    if all(block.kind is StatisticsKind.PROPORTION for block in arms.blocks):
        return arms.n
    units = arms.n.copy()  # a proportion's
    for block in arms.blocks:
        if block.kind is not StatisticsKind.PROPORTION:
            units[block.rows] = _kish_or_given(block.kind, arms.part(block.rows))
    return units


def _kish_or_given(kind: StatisticsKind, arms: ArmSums) -> Floats:
    """A mean's or a ratio's ``nonzero_units`` where given, else Kish's count."""
    if kind is StatisticsKind.MEAN:
        total, squares = np.abs(arms.total), arms.squares
    else:
        total, squares = np.abs(arms.denominator[0]), arms.denominator[1]
    with np.errstate(all="ignore"):
        kish = np.where(squares <= 0, arms.n, py_min((total / squares) * total, arms.n))
    kish = np.where(total == 0, 0.0, kish)
    units: Floats = np.where(arms.has_nonzero, arms.nonzero, kish)
    return units


def estimates(arms: ArmSums, units: Floats) -> Arms:
    """``stats.estimates.ESTIMATORS`` of every arm."""
    parts = [
        _estimates(block.kind, arms.part(block.rows), units[block.rows]) for block in arms.blocks
    ]
    if len(parts) == 1:
        return parts[0]
    return Arms(*(np.concatenate(field) for field in zip(*parts, strict=True)))


def _estimates(kind: StatisticsKind, arms: ArmSums, units: Floats) -> Arms:
    """``kind``'s estimator of its arms."""
    n = arms.n
    with np.errstate(all="ignore"):
        if kind is StatisticsKind.PROPORTION:
            p = arms.total / n
            variance = p * (1.0 - p) * n / (n - 1) / n
            return Arms(p, np.ones_like(n, dtype=np.bool_), variance, n, n - 1)
        dof = py_max(units - 1.0, 0.0)
        if kind is StatisticsKind.MEAN:
            total, squares = arms.total, arms.squares
            variance = py_max(squares - total * total / n, 0.0) / (n - 1) / n
            return Arms(total / n, np.ones_like(n, dtype=np.bool_), variance, n, dof)
        mean, variance = ratio_mean_and_variance(arms)
        defined = arms.denominator[0] / n != 0
        return Arms(
            np.where(defined, mean, 0.0), defined, np.where(defined, variance / n, 0.0), n, dof
        )


def ratio_mean_and_variance(arms: ArmSums) -> tuple[Floats, Floats]:
    """``RatioStats.mean`` and ``RatioStats.variance`` (per unit) where the denominator's mean
    is not 0 (elsewhere meaningless)."""
    n = arms.n
    numerator, numerator_squares = arms.total, arms.squares
    denominator, denominator_squares, cross = arms.denominator
    numerator_variance = py_max(numerator_squares - numerator * numerator / n, 0.0) / (n - 1)
    denominator_variance = py_max(denominator_squares - denominator * denominator / n, 0.0) / (
        n - 1
    )
    covariance = (cross - numerator * denominator / n) / (n - 1)
    mean_denominator = denominator / n
    ratio = numerator / denominator
    linearised = (
        numerator_variance - 2.0 * ratio * covariance + ratio * ratio * denominator_variance
    )
    variance: Floats = py_max(linearised, 0.0) / mean_denominator / mean_denominator
    return ratio, variance
