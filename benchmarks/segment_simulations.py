"""Seeded simulations of segments that differ, from raw units.

Every day of a run draws its units one by one: a variant (half each), a level in each
dimension (by the dimension's shares) and a 0/1 conversion whose rate is the baseline times the
unit's level multipliers, times 1 + the level's lift for the treatment. The day's units are
summed per (dimension, level, variant) and per variant, as the look's aggregation does, added
to the running sums, and read by ``stats.segments.compare_segments`` once a day. The tests run
them small (tests/stats/test_segments.py); ``python -m benchmarks.sim_segments`` runs them large
for the figures in docs/statistics.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from stats.segments import compare_segments
from stats.types import LevelStats, ProportionStats, VariantInput

IntArray = npt.NDArray[np.int64]
VARIANTS = ("control", "treatment")


@dataclass(frozen=True, slots=True)
class Dimension:
    """One attribute: its levels, each level's share of the units, its conversion multiplier
    and the treatment's relative lift inside it (0 everywhere under A/A)."""

    name: str
    levels: tuple[str, ...]
    shares: tuple[float, ...]
    multipliers: tuple[float, ...]
    lifts: tuple[float, ...]


def _dimension(name: str, levels: Sequence[str], shares: Sequence[float]) -> Dimension:
    """A dimension whose levels convert at different rates (from 0.6 to 1.4 times the baseline)
    and share one treatment effect of 0."""
    count = len(levels)
    multipliers = tuple(0.6 + 0.8 * index / max(count - 1, 1) for index in range(count))
    return Dimension(name, tuple(levels), tuple(shares), multipliers, (0.0,) * count)


# Four dimensions of 2 to 8 levels with uneven shares, as a shop's traffic is spread.
SHOP_DIMENSIONS = (
    _dimension("device", ("mobile", "desktop"), (0.5, 0.5)),
    _dimension("visitor_type", ("new", "returning", "(none)"), (0.55, 0.3, 0.15)),
    _dimension(
        "source",
        ("search", "direct", "social", "paid", "email", "referral"),
        (0.35, 0.25, 0.15, 0.12, 0.08, 0.05),
    ),
    _dimension(
        "market",
        ("NO", "SE", "DK", "FI", "DE", "IS", "other", "(none)"),
        (0.3, 0.25, 0.15, 0.1, 0.08, 0.05, 0.04, 0.03),
    ),
)


def mobile_only(lift: float, dimensions: Sequence[Dimension] = SHOP_DIMENSIONS) -> list[Dimension]:
    """The dimensions with the treatment lifting conversion by ``lift`` on mobile only; every
    level of every dimension converts at the baseline, so the whole's effect is ``lift / 2``."""
    changed = []
    for dimension in dimensions:
        flat = replace(dimension, multipliers=(1.0,) * len(dimension.levels))
        if dimension.name == "device":
            flat = replace(
                flat, lifts=tuple(lift if level == "mobile" else 0.0 for level in flat.levels)
            )
        changed.append(flat)
    return changed


def everywhere(lift: float, dimensions: Sequence[Dimension] = SHOP_DIMENSIONS) -> list[Dimension]:
    """The dimensions (levels converting at 0.6 to 1.4 times the baseline) with the treatment
    lifting conversion by ``lift`` for every unit: no segment differs in relative terms, though
    the absolute effects do."""
    return [
        replace(dimension, lifts=(lift,) * len(dimension.levels)) if index == 0 else dimension
        for index, dimension in enumerate(dimensions)
    ]


@dataclass(frozen=True, slots=True)
class Found:
    """Share of runs in which a segment was reported as differing at some look: any cell, the
    cell named by ``target`` (dimension, level), and any cell of another dimension than the
    target's (a false report when only the target's dimension has an effect); with the runs."""

    any_cell: float
    target: float
    elsewhere: float
    runs: int

    def standard_error(self, rate: float) -> float:
        """Monte Carlo standard error of a share estimated from ``runs`` runs at ``rate``."""
        return math.sqrt(rate * (1.0 - rate) / self.runs)


class _RunningSums:
    """Units and conversions per variant, and per (dimension, level, variant), so far."""

    def __init__(self, dimensions: Sequence[Dimension]) -> None:
        self.units = np.zeros(2, dtype=np.int64)
        self.conversions = np.zeros(2, dtype=np.int64)
        self.level_units = [np.zeros((len(d.levels), 2), dtype=np.int64) for d in dimensions]
        self.level_conversions = [np.zeros((len(d.levels), 2), dtype=np.int64) for d in dimensions]

    def add_day(self, variant: IntArray, levels: list[IntArray], converted: IntArray) -> None:
        self.units += np.bincount(variant, minlength=2)
        self.conversions += np.bincount(variant, weights=converted, minlength=2).astype(np.int64)
        for index, level in enumerate(levels):
            cells = self.level_units[index].size
            key = level * 2 + variant
            self.level_units[index] += np.bincount(key, minlength=cells).reshape(-1, 2)
            self.level_conversions[index] += (
                np.bincount(key, weights=converted, minlength=cells).astype(np.int64).reshape(-1, 2)
            )

    def whole(self) -> list[VariantInput]:
        return _variants(self.units, self.conversions)

    def levels(self, dimensions: Sequence[Dimension]) -> list[LevelStats]:
        found = []
        for index, dimension in enumerate(dimensions):
            for position, name in enumerate(dimension.levels):
                units, conversions = (
                    self.level_units[index][position],
                    self.level_conversions[index][position],
                )
                found.append(LevelStats(dimension.name, name, _variants(units, conversions)))
        return found


def _variants(units: IntArray, conversions: IntArray) -> list[VariantInput]:
    return [
        VariantInput(key, ProportionStats(int(units[index]), int(conversions[index])))
        for index, key in enumerate(VARIANTS)
        if units[index] > 0
    ]


def draw_day(
    rng: np.random.Generator, dimensions: Sequence[Dimension], baseline: float, units: int
) -> tuple[IntArray, list[IntArray], IntArray]:
    """One day's raw units: variant, level index per dimension, 0/1 conversion."""
    variant = rng.integers(0, 2, units)
    rate = np.full(units, baseline)
    levels = []
    for dimension in dimensions:
        level = np.searchsorted(
            np.cumsum(dimension.shares), rng.random(units) * sum(dimension.shares)
        )
        level = np.minimum(level, len(dimension.levels) - 1)
        levels.append(level)
        rate *= np.asarray(dimension.multipliers)[level]
        rate *= 1.0 + np.asarray(dimension.lifts)[level] * variant
    converted = (rng.random(units) < rate).astype(np.int64)
    return variant, levels, converted


def segment_looks(
    dimensions: Sequence[Dimension],
    *,
    baseline: float,
    daily_units: int,
    days: int,
    runs: int,
    seed: int,
    target: tuple[str, str] = ("device", "mobile"),
) -> Found:
    """Runs of ``days`` daily looks, ``daily_units`` units a day (both variants), the mixture
    tuned to the last day's size; the share of runs with a segment reported at any look."""
    rng = np.random.default_rng(seed)
    planned = daily_units * days // 2
    any_cell = on_target = outside = 0
    for _ in range(runs):
        sums = _RunningSums(dimensions)
        seen_any = seen_target = seen_outside = False
        for _ in range(days):
            sums.add_day(*draw_day(rng, dimensions, baseline, daily_units))
            whole = sums.whole()
            if len(whole) < 2 or any(arm.stats.n < 2 for arm in whole):
                continue
            report = compare_segments(
                whole, sums.levels(dimensions), planned_units_per_variant=planned
            )
            differing = report.that_differ
            seen_any = seen_any or bool(differing)
            seen_target = seen_target or any(
                (cell.dimension, cell.level) == target for cell in differing
            )
            seen_outside = seen_outside or any(cell.dimension != target[0] for cell in differing)
        any_cell += seen_any
        on_target += seen_target
        outside += seen_outside
    return Found(any_cell / runs, on_target / runs, outside / runs, runs)
