"""``stats.pairs.read_pair`` and ``stats.srm.sample_ratio_check`` over arrays of analyses: each
variant against the control, one row per analysis and one column per comparison."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from stats._bulk_arms import ArmSums
from stats._bulk_estimates import Arms
from stats._vector import Flags, Floats, each, py_min
from stats.types import Minimums, Reason, StatisticsKind

REASONS: tuple[Reason | None, ...] = (
    None,
    Reason.DENOMINATOR_ZERO,
    Reason.NOT_ENOUGH_DATA,
    Reason.NO_CONVERSIONS,
    Reason.ZERO_VARIANCE,
)
"""The reasons of ``Pairs.reason``, by code."""
_DENOMINATOR_ZERO, _NOT_ENOUGH_DATA, _NO_CONVERSIONS, _ZERO_VARIANCE = 1, 2, 3, 4
_ROUNDING = 1e-12  # stats.pairs._ROUNDING


class Side(NamedTuple):
    """One side of every comparison (the control, or the variant), as read."""

    mean: Floats
    variance: Floats
    n: Floats
    dof: Floats


class Pairs(NamedTuple):
    """``stats.pairs.PairReading`` of every comparison; ``replaced``: read on Agresti-Caffo
    estimates."""

    control: Side
    treatment: Side
    reason: npt.NDArray[np.int64]
    withheld: Flags
    replaced: Flags


def _sides(arms: Arms) -> tuple[Side, Side]:
    count = arms.mean.shape[1] - 1
    # ``repeat`` rather than a copy of ``broadcast_to``: half the time at these sizes.
    control = Side(*(column[:, :1].repeat(count, axis=1) for column in _columns(arms)))
    treatment = Side(*(column[:, 1:].copy() for column in _columns(arms)))
    return control, treatment


def _columns(arms: Arms) -> tuple[Floats, Floats, Floats, Floats]:
    return arms.mean, arms.variance, arms.n, arms.dof


def _agresti_caffo(n: Floats, conversions: Floats) -> Side:
    """``stats.estimates.agresti_caffo``."""
    plus_two = n + 2
    rate = (conversions + 1) / plus_two
    return Side(rate, rate * (1.0 - rate) / plus_two, n, np.full_like(n, math.inf))


def read_pairs(sums: ArmSums, arms: Arms, units: Floats, least: Minimums) -> Pairs:
    """The rules of ``read_pair``, in its order, for every comparison."""
    control, treatment = _sides(arms)
    defined = arms.defined[:, :1] & arms.defined[:, 1:]
    reason = np.where(defined, 0, _DENOMINATOR_ZERO)
    withheld = ~defined
    rates = sums.blocks[0]  # the proportions come first
    if rates.kind is not StatisticsKind.PROPORTION:
        thin = py_min(units[:, :1], units[:, 1:]) < least.units
        thin_reason = np.full(thin.shape, _NOT_ENOUGH_DATA)
        replaced = np.zeros_like(withheld)
    else:
        rows = rates.rows
        thin, neither, replaced = _rates(sums.part(rows), least, withheld[rows])
        any_replaced = replaced.any()
        if any_replaced:
            _replace(sums.part(rows), replaced, control, treatment, rows)
        if rows.stop < len(withheld):
            others = slice(rows.stop, None)
            thin = np.concatenate(
                [thin, py_min(units[others, :1], units[others, 1:]) < least.units]
            )
            neither = np.concatenate([neither, np.zeros_like(withheld[others])])
            replaced = np.concatenate([replaced, np.zeros_like(withheld[others])])
        thin_reason = np.where(neither, _NO_CONVERSIONS, _NOT_ENOUGH_DATA)
        if any_replaced:
            reason = np.where(replaced & neither, _NO_CONVERSIONS, reason)
    thin &= ~withheld
    reason = np.where(thin, thin_reason, reason)
    withheld |= thin
    few = ~withheld & ((control.dof < 1) | (treatment.dof < 1))
    reason = np.where(few, _NOT_ENOUGH_DATA, reason)
    withheld |= few
    with np.errstate(all="ignore"):
        spread = (control.variance * control.n > _ROUNDING * control.mean * control.mean) & (
            treatment.variance * treatment.n > _ROUNDING * treatment.mean * treatment.mean
        )
    flat = ~withheld & ~spread
    reason = np.where(flat, _ZERO_VARIANCE, reason)
    withheld |= flat
    return Pairs(control, treatment, reason, withheld, replaced)


def _rates(sums: ArmSums, least: Minimums, withheld: Flags) -> tuple[Flags, Flags, Flags]:
    """The rules of ``read_pair`` for rates: too few conversions, whether neither arm
    converted, and the comparisons read on Agresti-Caffo estimates."""
    n, conversions = sums.n, sums.total
    rarer = py_min(conversions, n - conversions)
    thin = rarer[:, :1] + rarer[:, 1:] < least.conversions
    neither = (conversions[:, :1] == 0) & (conversions[:, 1:] == 0)
    boundary = (conversions == 0) | (conversions == n)
    replaced = ~withheld & ~thin & (boundary[:, :1] | boundary[:, 1:])
    return thin, neither, replaced


def _replace(rates: ArmSums, replaced: Flags, control: Side, treatment: Side, rows: slice) -> None:
    """Agresti-Caffo estimates in the sides' rows of rates ``rows`` (of sums ``rates``) where
    ``replaced`` (in place: the sides' columns are copies of their own, ``_sides``)."""
    n, conversions = rates.n, rates.total
    shape = replaced.shape
    read_control = _agresti_caffo(
        np.broadcast_to(n[:, :1], shape), np.broadcast_to(conversions[:, :1], shape)
    )
    read_treatment = _agresti_caffo(n[:, 1:], conversions[:, 1:])
    for side, read in ((control, read_control), (treatment, read_treatment)):
        for column, estimate in zip(side, read, strict=True):
            column[rows] = np.where(replaced, estimate, column[rows])


def sample_ratio_p_values(n: Floats, weights: Sequence[float]) -> Floats:
    """``stats.srm.sample_ratio_check``'s p-value of every analysis (units ``n`` per arm)."""
    total = n.sum(axis=1)  # exact: counts below 2^48
    spread = np.zeros(n.shape[0])
    for arm, weight in enumerate(weights):
        gap = n[:, arm] / total - weight
        spread = spread + gap * gap / weight
    return _chi2_sf(total * spread, len(weights) - 1)


def _chi2_sf(x: Floats, dof: int) -> Floats:
    """``stats._distributions.chi2_sf``."""
    p_value = np.ones_like(x)
    positive = x > 0
    if not positive.any():
        return p_value
    x = x[positive]
    half = 0.5 * x
    if dof % 2 == 0:
        term = np.ones_like(x)
        total = np.ones_like(x)
        for j in range(1, dof // 2):
            term = term * (half / j)
            total = total + term
        p_value[positive] = py_min(1.0, each(math.exp, -half) * total)
        return p_value
    tail = each(math.erfc, np.sqrt(half))
    if dof == 1:
        # The series is empty: exp(-x/2) * 0.0 is +0.0, and adding it changes no erfc value (never
        # -0.0), so the exponentials (one per analysis) are left out.
        p_value[positive] = py_min(1.0, tail)
        return p_value
    term = np.sqrt(2.0 * x / math.pi)
    total = np.zeros_like(x)
    for j in range(1, (dof + 1) // 2):
        total = total + term
        term = term * (x / (2 * j + 1))
    tail = tail + each(math.exp, -half) * total
    p_value[positive] = py_min(1.0, tail)
    return p_value
