"""Time `stats.analyze` (fixed + sequential + Bayesian) against gbstats' fixed-horizon test.

Run from the repository root: python -m benchmarks.bench_stats [--repeats 15]
Both sides read the same two-variant conversion counts from sufficient
statistics. The repeats alternate between the three calls, so a change in the
machine's load touches all of them alike; each figure is the median over repeats
of the mean time per call, and the ratio the median of the per-repeat ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import timeit
from collections.abc import Callable

import gbstats
from gbstats.frequentist.tests import FrequentistConfig, TwoSidedTTest
from gbstats.models.statistics import ProportionStatistic

import stats

CONTROL = {"key": "control", "n": 10_000, "conversions": 250}
TREATMENT = {"key": "treatment", "n": 10_000, "conversions": 300}
MEAN_VARIANTS = [
    {"key": "control", "n": 10_000, "sum": 6_000_000.0, "sum_squares": 4.5e10},
    {"key": "treatment", "n": 10_000, "sum": 6_150_000.0, "sum_squares": 4.6e10},
]


def microseconds(call: Callable[[], object], number: int) -> float:
    return timeit.timeit(call, number=number) / number * 1e6


def vekst_proportion() -> object:
    return stats.analyze("proportion", [CONTROL, TREATMENT])


def vekst_mean() -> object:
    return stats.analyze("mean", MEAN_VARIANTS)


def gbstats_proportion() -> object:
    control = ProportionStatistic(n=CONTROL["n"], sum=CONTROL["conversions"])
    treatment = ProportionStatistic(n=TREATMENT["n"], sum=TREATMENT["conversions"])
    return TwoSidedTTest(control, treatment, FrequentistConfig()).compute_result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} "
        f"python={platform.python_version()} gbstats={getattr(gbstats, '__version__', '?')}"
    )
    rounds = [
        (
            microseconds(vekst_proportion, 5_000),
            microseconds(vekst_mean, 5_000),
            microseconds(gbstats_proportion, 500),
        )
        for _ in range(args.repeats)
    ]
    ours = statistics.median(r[0] for r in rounds)
    ours_mean = statistics.median(r[1] for r in rounds)
    theirs = statistics.median(r[2] for r in rounds)
    ratio = statistics.median(r[2] / r[0] for r in rounds)
    print(f"stats.analyze proportion, 2 variants, fixed+sequential+Bayesian: {ours:.1f} us/call")
    print(
        f"stats.analyze mean, 2 variants, fixed+sequential+Bayesian:       {ours_mean:.1f} us/call"
    )
    print(f"gbstats TwoSidedTTest.compute_result (fixed horizon only):       {theirs:.1f} us/call")
    print(f"ratio gbstats / stats.analyze (proportion):                      {ratio:.1f}x")


if __name__ == "__main__":
    main()
