"""Seeded simulations from raw data: error rates and power of the readings that decide.

Every scenario draws unit-level data (orders and lognormal order values, Bernoulli
conversions), sums it into sufficient statistics at each look exactly as the results
aggregation does, and reads `stats.analyze`. The tests run them small
(tests/stats/test_simulations.py); `python -m benchmarks.sim_verdicts` runs them large for
the figures in docs/statistics.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

import stats

FloatArray = npt.NDArray[np.float64]

ORDER_VALUE_LOG_MEAN = 6.5  # about 665 NOK median order value
ORDER_VALUE_LOG_SD = 1.0


@dataclass(frozen=True, slots=True)
class Rates:
    """Share of runs with a significant reading: at the last look (fixed horizon) and at any
    look (sequential, read from the first look on), with the number of runs."""

    fixed: float
    sequential: float
    runs: int

    def standard_error(self, rate: float) -> float:
        """Monte Carlo standard error of a share estimated from ``runs`` runs at ``rate``."""
        return math.sqrt(rate * (1.0 - rate) / self.runs)


def _look_sizes(units: int, looks: int) -> list[int]:
    return sorted({max(2, units * look // looks) for look in range(1, looks + 1)})


def aov_units(rng: np.random.Generator, units: int, orders: float) -> tuple[FloatArray, FloatArray]:
    """Per-unit revenue and order count of one arm: Poisson orders (``orders`` expected in the
    arm), each a lognormal order value."""
    counts = rng.poisson(orders / units, units)
    revenue = np.zeros(units)
    owners = np.repeat(np.arange(units), counts)
    np.add.at(revenue, owners, rng.lognormal(ORDER_VALUE_LOG_MEAN, ORDER_VALUE_LOG_SD, owners.size))
    return revenue, counts.astype(float)


def ratio_sums(
    numerator: FloatArray, denominator: FloatArray, *, count_active: bool = True
) -> dict[str, Any]:
    """Sufficient statistics of a ratio metric, with the units that have a denominator
    (left out with ``count_active=False``, as before the results aggregation counted them)."""
    sums: dict[str, Any] = {
        "n": int(numerator.size),
        "numerator_sum": float(numerator.sum()),
        "numerator_sum_squares": float(numerator @ numerator),
        "denominator_sum": float(denominator.sum()),
        "denominator_sum_squares": float(denominator @ denominator),
        "cross_sum": float(numerator @ denominator),
    }
    if count_active:
        sums["nonzero_units"] = int(np.count_nonzero(denominator))
    return sums


def aov_aa(
    orders: float,
    *,
    runs: int,
    looks: int,
    seed: int,
    units: int = 2000,
    minimums: dict[str, int] | None = None,
    count_active: bool = True,
) -> Rates:
    """A/A on average order value with about ``orders`` orders per arm at the end.

    ``minimums`` are passed to ``stats.analyze`` (default: its own); ``count_active=False``
    reads the sums without the units with an order, as the engine did before."""
    rng = np.random.default_rng(seed)
    fixed = sequential = 0
    sizes = _look_sizes(units, looks)
    for _ in range(runs):
        arms = [aov_units(rng, units, orders) for _ in range(2)]
        seen = False
        for size in sizes:
            comparison = stats.analyze(
                "ratio",
                [
                    ratio_sums(revenue[:size], count[:size], count_active=count_active)
                    for revenue, count in arms
                ],
                planned_units_per_variant=units,
                minimums=minimums,
            ).comparisons[0]
            seen = seen or comparison.sequential.significant
        fixed += comparison.significant
        sequential += seen
    return Rates(fixed / runs, sequential / runs, runs)


def proportion_looks(
    rates: list[float], *, runs: int, looks: int, units: int, planned: int, seed: int
) -> list[Rates]:
    """Conversions in ``len(rates)`` arms (the first the control) read at ``looks`` equally
    spaced looks up to ``units`` per arm; one ``Rates`` per treatment, and last the family's
    (any treatment significant)."""
    rng = np.random.default_rng(seed)
    sizes = _look_sizes(units, looks)
    steps = np.diff([0, *sizes])
    treatments = len(rates) - 1
    fixed = np.zeros(treatments + 1)
    sequential = np.zeros(treatments + 1)
    for _ in range(runs):
        cumulative = rng.binomial(steps[None, :], np.array(rates)[:, None]).cumsum(axis=1)
        seen = np.zeros(treatments, dtype=bool)
        for look, size in enumerate(sizes):
            variants = [{"n": size, "conversions": int(count)} for count in cumulative[:, look]]
            result = stats.analyze("proportion", variants, planned_units_per_variant=planned)
            seen |= [comparison.sequential.significant for comparison in result.comparisons]
        final = [comparison.significant for comparison in result.comparisons]
        fixed += [*final, any(final)]
        sequential += [*seen, seen.any()]
    return [
        Rates(float(f) / runs, float(s) / runs, runs)
        for f, s in zip(fixed, sequential, strict=True)
    ]


def planned_power(
    baseline: float, mde: float, *, runs: int, looks: int, seed: int
) -> tuple[int, Rates]:
    """Units per variant from ``stats.sample_size`` (sequential plan) and the power of a test
    run to that size, read at ``looks`` looks, tuned to that plan."""
    planned = stats.sample_size(baseline_rate=baseline, mde_relative=mde).units_per_variant
    rates = proportion_looks(
        [baseline, baseline * (1 + mde)],
        runs=runs,
        looks=looks,
        units=planned,
        planned=planned,
        seed=seed,
    )
    return planned, rates[0]
