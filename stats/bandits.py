"""Bandit statistics: period-weighted arm estimates, probability of being best, top-two
Thompson sampling weights with a floor, per-period SRM and the gain over an equal split.

A bandit changes its weights at every update, so an arm's units come from different periods in
different proportions. When the baseline moves over the periods (weekends, a sale building up)
an arm's pooled mean would carry the baseline of the periods it got most traffic in (Simpson's
paradox). Each arm's estimate therefore weights its per-period means by the period's share of
*all* units, the same weights for every arm. Inputs and results: ``stats.bandit_types``.

The posteriors are normal on those estimates (flat prior). Monte Carlo draws come from
``numpy.random.default_rng(seed)`` on the arms in a canonical order (by mean, then standard
error), and arms with identical estimates share their figures: the same inputs and seed give
identical outputs, and permuting the arms permutes the outputs.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from stats._distributions import normal_cdf
from stats.bandit_types import ArmEstimate, ArmPeriodSums, GainEstimate
from stats.errors import StatsInputError
from stats.srm import sample_ratio_check

__all__ = [
    "ArmEstimate",
    "ArmPeriodSums",
    "GainEstimate",
    "arm_estimates",
    "floor_is_feasible",
    "gain_over_equal_split",
    "period_srm_p_values",
    "probability_best",
    "top_two_thompson_weights",
]

FloatArray = npt.NDArray[np.float64]

MAX_DRAWS = 1_000_000
"""More draws than this cost seconds and memory for no precision anyone reads."""

_MAX_UNITS = 2**53
# floor * arms may exceed 1 by rounding (1/3 * 3); a floor that fills every weight is allowed.
_FLOOR_TOLERANCE = 1e-12


class _Cells(NamedTuple):
    """The sums as (periods x arms) arrays; ``variances`` are those of each cell's mean."""

    units: FloatArray
    means: FloatArray
    variances: FloatArray


def _is_whole(value: object) -> bool:
    """An integer (numpy's included), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def _check_cell(cell: ArmPeriodSums, where: str) -> None:
    units = cell.units
    if not _is_whole(units) or not 0 <= units <= _MAX_UNITS:
        raise StatsInputError(f"{where}.units", "units must be a whole number from 0 to 2**53")
    if not math.isfinite(cell.total):
        raise StatsInputError(f"{where}.total", "total must be a finite number")
    if not (math.isfinite(cell.squares) and cell.squares >= 0):
        raise StatsInputError(f"{where}.squares", "squares must be a finite number >= 0")
    if units == 0:
        if cell.total != 0 or cell.squares != 0:
            raise StatsInputError(where, "a cell without units has total and squares 0")
        return
    # Cauchy-Schwarz: |mean| <= root mean square, compared without squaring (no overflow).
    if abs(cell.total / units) > math.sqrt(cell.squares / units) * (1 + 1e-9) + 1e-150:
        raise StatsInputError(
            f"{where}.squares",
            "squares is below total**2 / units, so these are not the sums of one set of values"
            " (for a conversion rate: conversions above units)",
        )


def _cells(periods: Sequence[Sequence[ArmPeriodSums]]) -> _Cells:
    if len(periods) == 0:
        raise StatsInputError("periods", "give at least one period")
    arms = len(periods[0])
    if arms == 0:
        raise StatsInputError("periods[0]", "give at least one arm")
    for p, period in enumerate(periods):
        if len(period) != arms:
            raise StatsInputError(
                f"periods[{p}]", f"every period lists the same {arms} arms, this one {len(period)}"
            )
        for a, cell in enumerate(period):
            _check_cell(cell, f"periods[{p}][{a}]")
    units = np.array([[c.units for c in period] for period in periods], dtype=np.float64)
    totals = np.array([[c.total for c in period] for period in periods], dtype=np.float64)
    squares = np.array([[c.squares for c in period] for period in periods], dtype=np.float64)
    safe_units = np.maximum(units, 1.0)
    means = totals / safe_units
    # The spread of one period's values with divisor n (for 0/1 values: p (1 - p)).
    spread = np.maximum(squares / safe_units - means * means, 0.0)
    return _Cells(units, means, spread / safe_units)


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise StatsInputError("periods", "the sums overflow double precision: rescale the values")
    return value


def arm_estimates(periods: Sequence[Sequence[ArmPeriodSums]]) -> list[ArmEstimate]:
    """Per arm, the period-weighted mean and its standard error; ``periods[p][a]``.

    Period p's weight is its share of all units, n_p / n. An arm's mean is
    sum_p w_p m_pa and its variance sum_p w_p^2 s_pa^2 / n_pa, where s_pa^2 is the spread of the
    period's values with divisor n_pa (for a conversion rate, p (1 - p)). A period in which an
    arm has no unit is left out of that arm's sum and the other periods' weights are rescaled to
    sum to 1 (with a floor on the weights this happens only at very low traffic). Every arm
    needs a unit in some period.
    """
    cells = _cells(periods)
    arm_units = cells.units.sum(axis=0)
    if (arm_units == 0).any():
        arm = int(np.argmax(arm_units == 0))
        raise StatsInputError(f"periods[*][{arm}].units", "every arm needs at least one unit")
    period_units = cells.units.sum(axis=1, keepdims=True)
    shares = np.where(cells.units > 0, period_units / period_units.sum(), 0.0)
    shares = shares / shares.sum(axis=0)
    means = (shares * cells.means).sum(axis=0)
    variances = (shares * shares * cells.variances).sum(axis=0)
    return [
        ArmEstimate(_finite(float(mean)), math.sqrt(_finite(float(variance))), int(units))
        for mean, variance, units in zip(means, variances, arm_units, strict=True)
    ]


def _check_draws(estimates: Sequence[ArmEstimate], draws: int) -> None:
    if len(estimates) == 0:
        raise StatsInputError("estimates", "give at least one arm")
    for index, estimate in enumerate(estimates):
        if not (math.isfinite(estimate.mean) and math.isfinite(estimate.standard_error)):
            raise StatsInputError(f"estimates[{index}]", "mean and standard_error must be finite")
        if estimate.standard_error < 0:
            raise StatsInputError(f"estimates[{index}].standard_error", "must be >= 0")
    if not _is_whole(draws) or not 1 <= draws <= MAX_DRAWS:
        raise StatsInputError("draws", f"draws must be a whole number from 1 to {MAX_DRAWS:,}")


def _check_seed(seed: int) -> None:
    if not _is_whole(seed) or seed < 0:
        raise StatsInputError("seed", "seed must be a whole number >= 0")


def _canonical_order(estimates: Sequence[ArmEstimate]) -> npt.NDArray[np.intp]:
    means = np.array([e.mean for e in estimates])
    errors = np.array([e.standard_error for e in estimates])
    return np.lexsort((errors, means))


def _shared_by_identical_arms(values: FloatArray, estimates: Sequence[ArmEstimate]) -> list[float]:
    """``values`` per arm, averaged over arms whose estimates are identical (whose figures
    differ only by Monte Carlo noise and by which of them the draws' ties went to)."""
    groups: dict[tuple[float, float], list[int]] = {}
    for index, estimate in enumerate(estimates):
        groups.setdefault((estimate.mean, estimate.standard_error), []).append(index)
    shared = values.copy()
    for members in groups.values():
        shared[members] = values[members].mean()
    return [float(value) for value in shared]


def _posterior_draws(
    estimates: Sequence[ArmEstimate], draws: int, seed: int, lower_is_better: bool
) -> tuple[npt.NDArray[np.intp], FloatArray]:
    """Seeded draws (draws x arms) from the arms' normal posteriors, larger meaning better,
    with the arms in canonical order; and that order (column j is arm ``order[j]``)."""
    order = _canonical_order(estimates)
    means, errors = _rescaled([estimates[i] for i in order])
    sampled = means + errors * np.random.default_rng(seed).standard_normal((draws, means.size))
    return order, -sampled if lower_is_better else sampled


def _rescaled(estimates: Sequence[ArmEstimate]) -> tuple[FloatArray, FloatArray]:
    """Means and standard errors divided by the largest of them in size, so that no draw or
    difference overflows (1e308 is a valid mean); the order of the draws is unchanged."""
    means = np.array([e.mean for e in estimates])
    errors = np.array([e.standard_error for e in estimates])
    scale = max(float(np.abs(means).max()), float(errors.max()))
    return (means / scale, errors / scale) if scale > 0 else (means, errors)


def probability_best(
    estimates: Sequence[ArmEstimate], *, draws: int, seed: int, lower_is_better: bool = False
) -> list[float]:
    """Each arm's posterior probability of having the best mean (highest, or lowest with
    ``lower_is_better``); they sum to 1.

    Two arms: exact, Phi(difference / sqrt(se_a^2 + se_b^2)), and ``draws`` and ``seed`` are
    only checked. More arms: the share of ``draws`` seeded posterior draws in which the arm is
    best.
    """
    _check_draws(estimates, draws)
    _check_seed(seed)
    if len(estimates) == 2:
        means, errors = _rescaled(estimates)
        gap = float(means[0] - means[1]) * (-1 if lower_is_better else 1)
        spread = math.hypot(float(errors[0]), float(errors[1]))
        chance = normal_cdf(gap / spread) if spread > 0 else 0.5 + 0.5 * float(np.sign(gap))
        return [chance, 1.0 - chance]
    order, sampled = _posterior_draws(estimates, draws, seed, lower_is_better)
    best = order[np.argmax(sampled, axis=1)]
    counts = np.bincount(best, minlength=len(estimates)).astype(np.float64)
    return _shared_by_identical_arms(counts / draws, estimates)


def floor_is_feasible(floor: float, arms: int) -> bool:
    """True when every one of ``arms`` weights can be at least ``floor``: floor * arms <= 1."""
    return (
        math.isfinite(floor) and floor >= 0 and arms >= 1 and floor * arms <= 1 + _FLOOR_TOLERANCE
    )


def _with_floor(weights: FloatArray, floor: float) -> FloatArray:
    """Weights raised to ``floor`` where below it, the others scaled down in proportion to
    make room; repeated while the scaling pushes another weight below the floor."""
    floored = np.zeros(weights.size, dtype=bool)
    while True:
        free_mass = 1.0 - floor * floored.sum()
        free_total = weights[~floored].sum()
        if floored.all() or free_total <= 0:
            return np.full(weights.size, 1.0 / weights.size)
        scaled = np.where(floored, floor, weights * (free_mass / free_total))
        below = ~floored & (scaled < floor)
        if not below.any():
            return scaled
        floored |= below


def top_two_thompson_weights(
    estimates: Sequence[ArmEstimate],
    *,
    floor: float,
    draws: int,
    seed: int,
    leader_share: float = 0.5,
    lower_is_better: bool = False,
) -> list[float]:
    """Traffic weights by top-two Thompson sampling, each at least ``floor``; they sum to 1.

    An arm's weight is its probability of being chosen by top-two sampling, estimated from
    ``draws`` seeded posterior draws: each draw's best arm is chosen with probability
    ``leader_share`` and its runner-up (in the same draw) otherwise. Weights below ``floor`` are
    then raised to it and the others scaled down in proportion.
    """
    _check_draws(estimates, draws)
    _check_seed(seed)
    if not floor_is_feasible(floor, len(estimates)):
        raise StatsInputError(
            "floor", f"floor must be >= 0 and at most 1 / arms ({len(estimates)} arms)"
        )
    if not (math.isfinite(leader_share) and 0 <= leader_share <= 1):
        raise StatsInputError("leader_share", "leader_share must be between 0 and 1")
    arms = len(estimates)
    if arms == 1:
        return [1.0]
    order, sampled = _posterior_draws(estimates, draws, seed, lower_is_better)
    best = np.argmax(sampled, axis=1)
    sampled[np.arange(draws), best] = -np.inf
    runner_up = np.argmax(sampled, axis=1)
    chosen = leader_share * np.bincount(order[best], minlength=arms) + (
        1 - leader_share
    ) * np.bincount(order[runner_up], minlength=arms)
    shared = np.array(_shared_by_identical_arms(chosen / draws, estimates))
    return [float(weight) for weight in _with_floor(shared, floor)]


def period_srm_p_values(
    units: Sequence[Sequence[int]], weights: Sequence[Sequence[float]]
) -> list[float]:
    """Per period, the chi-square p-value of the units first exposed to each arm against that
    period's weights (``units[p][a]``, ``weights[p][a]``; weights are normalised).

    A period without units reads 1.0; an arm with weight 0 that has units reads 0.0 (it
    cannot happen by design); arms with weight 0 and no units are left out of the test.
    """
    if len(units) != len(weights):
        raise StatsInputError("weights", f"give one row of weights per period ({len(units)})")
    p_values: list[float] = []
    for p, (counts, shares) in enumerate(zip(units, weights, strict=True)):
        if len(counts) != len(shares):
            raise StatsInputError(f"weights[{p}]", "give one weight per arm of the period")
        for a, count in enumerate(counts):
            if not _is_whole(count) or count < 0:
                raise StatsInputError(f"units[{p}][{a}]", "units must be a whole number >= 0")
        if not all(math.isfinite(share) and share >= 0 for share in shares) or sum(shares) <= 0:
            raise StatsInputError(f"weights[{p}]", "weights must be finite, >= 0 and not all 0")
        p_values.append(_period_srm(counts, shares))
    return p_values


def _period_srm(counts: Sequence[int], shares: Sequence[float]) -> float:
    if sum(counts) == 0:
        return 1.0
    if any(count > 0 and share == 0 for count, share in zip(counts, shares, strict=True)):
        return 0.0
    kept = [(count, share) for count, share in zip(counts, shares, strict=True) if share > 0]
    if len(kept) < 2:
        return 1.0
    total_share = sum(share for _, share in kept)
    return sample_ratio_check(
        [count for count, _ in kept], [share / total_share for _, share in kept]
    ).p_value


def gain_over_equal_split(periods: Sequence[Sequence[ArmPeriodSums]]) -> GainEstimate:
    """The bandit's outcome minus an equal split's over the same units, with a standard error.

    In period p with n_p units over K arms, an equal split would have given each arm n_p / K
    units at the arm's mean in that period, so the gain is sum_pa (n_pa - n_p / K) m_pa, with
    variance sum_pa (n_pa - n_p / K)^2 s_pa^2 / n_pa (the units per cell taken as fixed).
    Periods in which an arm has no unit are left out (``GainEstimate.periods`` counts the rest).
    """
    cells = _cells(periods)
    counted = (cells.units > 0).all(axis=1)
    units = cells.units[counted]
    arms = units.shape[1]
    excess = units - units.sum(axis=1, keepdims=True) / arms
    with np.errstate(over="ignore", invalid="ignore"):
        extra = _finite(float((excess * cells.means[counted]).sum()))
        variance = _finite(float((excess * excess * cells.variances[counted]).sum()))
        observed = _finite(float((units * cells.means[counted]).sum()))
    return GainEstimate(extra, math.sqrt(variance), observed, int(counted.sum()))
