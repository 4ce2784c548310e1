"""Simulate peeking: type I error and power of the sequential and fixed-horizon readings.

Run from the repository root: python -m benchmarks.sim_sequential [--runs 2000]
A/A and A/B tests on a 2.5 % conversion baseline, 20,000 units per arm, analysed
through `stats.analyze` after every 200 units per arm (100 looks), with
planned_units_per_variant = 20,000. Seeded, so the figures are reproducible.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

import stats

BASELINE = 0.025
LOOKS = 100
UNITS_PER_LOOK = 200
PLANNED = LOOKS * UNITS_PER_LOOK
UPLIFTS = (0.0, 0.10, 0.20, 0.30)


def simulate(uplift: float, runs: int, seed: int) -> dict[str, float]:
    """Share of runs significant at any look (sequential, fixed peeking) and at the end (fixed)."""
    rng = np.random.default_rng(seed)
    rates = np.array([BASELINE, BASELINE * (1 + uplift)])
    increments = rng.binomial(UNITS_PER_LOOK, rates[:, None, None], size=(2, runs, LOOKS))
    cumulative = increments.cumsum(axis=2)
    sequential_any = fixed_any = fixed_final = 0
    stopping_units = []
    for run in range(runs):
        seen_sequential = seen_fixed = False
        for look in range(LOOKS):
            n = UNITS_PER_LOOK * (look + 1)
            comparison = stats.analyze(
                "proportion",
                [
                    {"n": n, "conversions": int(cumulative[0, run, look])},
                    {"n": n, "conversions": int(cumulative[1, run, look])},
                ],
                planned_units_per_variant=PLANNED,
            ).comparisons[0]
            if comparison.sequential.significant and not seen_sequential:
                seen_sequential = True
                stopping_units.append(n)
            seen_fixed = seen_fixed or comparison.significant
            if look == LOOKS - 1:
                fixed_final += comparison.significant
        sequential_any += seen_sequential
        fixed_any += seen_fixed
    return {
        "sequential_any_look": sequential_any / runs,
        "fixed_any_look": fixed_any / runs,
        "fixed_final_look": fixed_final / runs,
        "median_stop": float(np.median(stopping_units)) if stopping_units else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20240611)
    args = parser.parse_args()
    print(f"machine: {platform.machine()} cpus={os.cpu_count()} python={platform.python_version()}")
    print(f"runs={args.runs} looks={LOOKS} units/arm/look={UNITS_PER_LOOK} baseline={BASELINE}")
    print(
        "uplift | sequential, any look | fixed, any look (peeking) | fixed, final look only |"
        " median units/arm at sequential stop"
    )
    started = time.perf_counter()
    for index, uplift in enumerate(UPLIFTS):
        figures = simulate(uplift, args.runs, args.seed + index)
        print(
            f"{uplift:>6.0%} | {figures['sequential_any_look']:>20.3f} | "
            f"{figures['fixed_any_look']:>25.3f} | {figures['fixed_final_look']:>22.3f} | "
            f"{figures['median_stop']:>8.0f}"
        )
    print(f"elapsed: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
