"""Time `stats.analyze` (fixed + sequential + Bayesian) against gbstats' fixed-horizon test.

Run from the repository root: python -m benchmarks.bench_stats [--repeats 15]
Both sides read the same two-variant conversion counts from sufficient
statistics; each figure is the median over repeats of the mean time per call.
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


def median_microseconds(call: Callable[[], object], number: int, repeats: int) -> float:
    runs = timeit.repeat(call, number=number, repeat=repeats)
    return statistics.median(runs) / number * 1e6


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
    ours = median_microseconds(vekst_proportion, 5_000, args.repeats)
    ours_mean = median_microseconds(vekst_mean, 5_000, args.repeats)
    theirs = median_microseconds(gbstats_proportion, 500, args.repeats)
    print(f"stats.analyze proportion, 2 variants, fixed+sequential+Bayesian: {ours:.1f} us/call")
    print(
        f"stats.analyze mean, 2 variants, fixed+sequential+Bayesian:       {ours_mean:.1f} us/call"
    )
    print(f"gbstats TwoSidedTTest.compute_result (fixed horizon only):       {theirs:.1f} us/call")
    print(f"ratio gbstats / stats.analyze (proportion):                      {theirs / ours:.1f}x")


if __name__ == "__main__":
    main()
