"""Simulated error rates and power of the segments that differ (stats.segments), from raw
units read at a look every day for 30 days. Figures for docs/statistics.md.

Run from the repository root: python -m benchmarks.sim_segments [--runs 2000] [--power-runs 1000]
Seeded, so the figures are reproducible; each line also prints the Monte Carlo standard error.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time

import stats
from benchmarks.segment_simulations import (
    SHOP_DIMENSIONS,
    Found,
    everywhere,
    mobile_only,
    segment_looks,
)

DAYS = 30
BASELINE = 0.05
MOBILE_LIFT = 0.2


def _share(found: Found, rate: float, nominal: float | None) -> str:
    """The share with its Monte Carlo standard error: at the nominal rate the share is checked
    against (A/A: 5 %, so a share of 0 still shows the precision), else at the share itself."""
    return f"{rate:.3f} ± {found.standard_error(rate if nominal is None else nominal):.3f}"


def _line(label: str, found: Found, units_per_arm: int, nominal: float | None = None) -> str:
    shares = " | ".join(
        _share(found, rate, nominal) for rate in (found.any_cell, found.target, found.elsewhere)
    )
    return f"| {label} | {units_per_arm:,} | {shares} | {found.runs} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2000, help="runs of each A/A scenario")
    parser.add_argument("--power-runs", type=int, default=1000, help="runs of each effect scenario")
    args = parser.parse_args()
    started = time.perf_counter()
    print(f"machine: {platform.machine()} cpus={os.cpu_count()} python={platform.python_version()}")
    # The whole's plan at 80 % power for the average effect: +20 % on half the traffic = +10 %.
    plan = stats.sample_size(mde_relative=MOBILE_LIFT / 2, baseline_rate=BASELINE, power=0.8)
    planned = plan.units_per_variant
    print(f"plan for +10 % at {BASELINE:.0%}: {planned:,} units per arm (sequential, 80 % power)")
    print(f"alpha 0.05, {DAYS} daily looks, mixture tuned to the last day; ± one MC s.e.")
    columns = "any segment, any look | the device segment | a segment of another dimension"
    print(f"| scenario | units per arm at day 30 | {columns} | runs |")
    print("|---|---|---|---|---|---|")
    daily = math.ceil(2 * planned / DAYS)
    for label, baseline, units in (
        ("A/A, 4 dimensions (2, 3, 6, 8 levels), 5 %", BASELINE, daily),
        ("A/A, 4 dimensions, 5 %, a quarter of the traffic", BASELINE, daily // 4),
        ("A/A, 4 dimensions, 1 %", 0.01, daily),
    ):
        found = segment_looks(
            SHOP_DIMENSIONS, baseline=baseline, daily_units=units, days=DAYS, runs=args.runs, seed=1
        )
        print(_line(label, found, units * DAYS // 2, nominal=0.05), flush=True)
    found = segment_looks(
        everywhere(MOBILE_LIFT / 2),
        baseline=BASELINE,
        daily_units=daily,
        days=DAYS,
        runs=args.runs,
        seed=4,
    )
    label = "+10 % for every unit, levels at 0.6-1.4 times the 5 % (no relative difference)"
    print(_line(label, found, daily * DAYS // 2, nominal=0.05), flush=True)
    device_only = mobile_only(MOBILE_LIFT)[:1]
    found = segment_looks(
        device_only, baseline=BASELINE, daily_units=daily, days=DAYS, runs=args.power_runs, seed=2
    )
    print(
        _line(
            "+20 % on mobile only, device the only dimension, at the plan", found, daily * DAYS // 2
        ),
        flush=True,
    )
    for multiple in (1.0, 1.25, 1.5, 1.75, 2.0):
        units = math.ceil(multiple * daily)
        found = segment_looks(
            mobile_only(MOBILE_LIFT),
            baseline=BASELINE,
            daily_units=units,
            days=DAYS,
            runs=args.power_runs,
            seed=3,
        )
        label = f"+20 % on mobile only, 4 dimensions, {multiple:g} x the plan"
        print(_line(label, found, units * DAYS // 2), flush=True)
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
