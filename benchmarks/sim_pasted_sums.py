"""A/A AOV from sums pasted without `nonzero_units`: Kish's effective count against the exact one.

Run from the repository root: python -m benchmarks.sim_pasted_sums [--runs 4000]
Seeded. Each run draws two arms of 2,000 visitors: Poisson orders (about `orders` per arm,
nearly always one per buyer), or buyers with 1-3 orders each, every order lognormal (log-mean
6.5, log-sd 1). One fixed-horizon look at the end and the sequential reading at 50 looks, with
the minimum-data gate lowered to 2 units so that the thin data is read at all (the default gate
of 10 withholds it: 0 %). Figures for docs/statistics.md.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time

import numpy as np

import stats
from benchmarks.simulations import ORDER_VALUE_LOG_MEAN, ORDER_VALUE_LOG_SD, aov_aa, ratio_sums

LOWERED = {"conversions": 0, "units": 2}
UNITS = 2000


def several_orders_aa(buyers: float, *, runs: int, seed: int, count_active: bool) -> float:
    """Fixed-horizon false-positive rate with Poisson(`buyers`) buyers per arm, 1-3 orders each."""
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(runs):
        arms = []
        for _ in range(2):
            orders = np.zeros(UNITS)
            count = rng.poisson(buyers)
            orders[:count] = rng.integers(1, 4, count)
            revenue = np.zeros(UNITS)
            owners = np.repeat(np.arange(UNITS), orders.astype(int))
            values = rng.lognormal(ORDER_VALUE_LOG_MEAN, ORDER_VALUE_LOG_SD, owners.size)
            np.add.at(revenue, owners, values)
            arms.append(ratio_sums(revenue, orders, count_active=count_active))
        hits += stats.analyze("ratio", arms, minimums=LOWERED).comparisons[0].significant
    return hits / runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=4000)
    runs = parser.parse_args().runs
    started = time.perf_counter()
    print(f"machine: {platform.machine()} cpus={os.cpu_count()} python={platform.python_version()}")
    se = math.sqrt(0.05 * 0.95 / runs)
    print(f"| scenario | fixed horizon | sequential, 50 looks | MC s.e. {se:.3f}, {runs} runs |")
    print("|---|---|---|---|")
    for orders in (5, 10, 20):
        for count_active, label in ((True, "`nonzero_units` given"), (False, "Kish's count")):
            rates = aov_aa(
                orders,
                runs=runs,
                looks=50,
                seed=500 + orders,
                units=UNITS,
                minimums=LOWERED,
                count_active=count_active,
            )
            print(
                f"| Poisson orders, {orders} per arm, {label} | {rates.fixed:.3f} "
                f"| {rates.sequential:.3f} | |",
                flush=True,
            )
    for buyers in (3, 5):
        for count_active, label in ((True, "`nonzero_units` given"), (False, "Kish's count")):
            rate = several_orders_aa(
                buyers, runs=runs, seed=600 + buyers, count_active=count_active
            )
            row = f"| {buyers} buyers of 1-3 orders per arm, {label} | {rate:.3f} | - | |"
            print(row, flush=True)
    print(f"elapsed: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
