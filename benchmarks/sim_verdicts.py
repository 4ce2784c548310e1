"""Simulated error rates and power where shops are: thin AOV data, rare conversions, many arms,
and a test run to its plan. Figures for docs/statistics.md.

Run from the repository root: python -m benchmarks.sim_verdicts [--runs 2000]
Seeded, so the figures are reproducible; each line also prints the Monte Carlo standard error.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

from benchmarks.simulations import Rates, aov_aa, planned_power, proportion_looks

LOOKS = 50
NO_MINIMUMS = {"conversions": 0, "units": 2}


def _line(label: str, rates: Rates, nominal: float) -> str:
    se = rates.standard_error(nominal)
    return f"| {label} | {rates.fixed:.3f} | {rates.sequential:.3f} | {se:.3f} | {rates.runs} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()
    runs = args.runs
    started = time.perf_counter()
    print(f"machine: {platform.machine()} cpus={os.cpu_count()} python={platform.python_version()}")
    print(f"alpha 0.05, {LOOKS} looks from the first units on, sequential tuned to the last look")
    print("| scenario | fixed horizon, last look | sequential, any look | MC s.e. | runs |")
    print("|---|---|---|---|---|")
    for orders in (5, 10, 20, 50):
        rates = aov_aa(orders, runs=runs, looks=LOOKS, seed=100 + orders, units=2000)
        print(_line(f"A/A AOV, {orders} orders per arm (2,000 units)", rates, 0.05), flush=True)
    # The same data below the default minimums, and read as before this work.
    for orders in (5, 10):
        rates = aov_aa(
            orders, runs=runs, looks=LOOKS, seed=100 + orders, units=2000, minimums=NO_MINIMUMS
        )
        label = f"A/A AOV, {orders} orders per arm, minimums lowered to 2 units with an order"
        print(_line(label, rates, 0.05), flush=True)
        rates = aov_aa(
            orders,
            runs=runs,
            looks=LOOKS,
            seed=100 + orders,
            units=2000,
            minimums=NO_MINIMUMS,
            count_active=False,
        )
        label = f"A/A AOV, {orders} orders per arm, degrees of freedom from all units (before)"
        print(_line(label, rates, 0.05), flush=True)
    for baseline in (0.001, 0.005, 0.01):
        (rates, _) = proportion_looks(
            [baseline, baseline], runs=runs, looks=LOOKS, units=1000, planned=1000, seed=200
        )
        print(_line(f"A/A conversion {baseline:.1%}, 1,000 units per arm", rates, 0.05), flush=True)
    for arms in (3, 10):
        family = proportion_looks(
            [0.025] * arms, runs=runs, looks=LOOKS, units=20_000, planned=20_000, seed=300 + arms
        )[-1]
        print(_line(f"A/A {arms} arms, family-wise, 2.5 %", family, 0.05), flush=True)
    planned, power = planned_power(0.025, 0.10, runs=runs, looks=LOOKS, seed=400)
    print(_line(f"power at the plan, 2.5 % +10 % ({planned:,} per arm)", power, 0.8), flush=True)
    print(f"elapsed: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
