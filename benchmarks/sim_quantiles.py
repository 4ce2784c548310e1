"""Quantile metrics (median and 90th percentile of order values): coverage of the interval for
the difference (Deng, Knoblich and Lu 2018: `stats.quantiles`) and A/A false positives, from
raw skewed orders.

Run from the repository root:
    python -m benchmarks.sim_quantiles [--runs 2000] [--orders 50 200 2000]
        [--levels 0.5 0.9] [--seed 2026]
Seeded. Each buyer places 1-3 orders (uniform); the log of an order's value is the buyer's
spend level (normal, sd 0.8) plus the order's own noise (normal, sd 0.8), so a buyer's orders
are correlated and the values are lognormal with a heavy tail (sd of the log 1.13: the 99th
percentile is 14 times the median). The treatment multiplies every value by 1.1 (coverage) or
by 1 (A/A); the true quantile of the values is known in closed form. Reported per orders per
arm (about 50, 200 and 2,000): the 95 % coverage of the absolute difference, the A/A
false-positive rate of the fixed-horizon reading and of the sequential reading at its final
look. Figures for docs/statistics.md.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from stats.quantiles import compare_quantiles, summarize
from stats.types import Alternative

LOG_SD_BUYER, LOG_SD_ORDER, LOG_MEAN = 0.8, 0.8, math.log(600.0)


def arm(rng: np.random.Generator, orders: int, lift: float) -> list[list[float]]:
    """Buyers' order values until about ``orders`` orders: one list per buyer."""
    buyers: list[list[float]] = []
    placed = 0
    while placed < orders:
        count = int(rng.integers(1, 4))
        level = LOG_MEAN + rng.normal(0.0, LOG_SD_BUYER)
        values = np.exp(level + rng.normal(0.0, LOG_SD_ORDER, count)) * lift
        buyers.append([float(v) for v in np.round(values, 2)])
        placed += count
    return buyers


def true_quantile(level: float, lift: float) -> float:
    """The quantile of the values' lognormal distribution."""
    from scipy.stats import norm

    sd = math.hypot(LOG_SD_BUYER, LOG_SD_ORDER)
    return float(lift * math.exp(LOG_MEAN + sd * norm.ppf(level)))


def run(
    rng: np.random.Generator, orders: int, level: float, lift: float, runs: int
) -> dict[str, float]:
    """Share of runs whose 95 % interval covers the true difference, and that read significant
    (fixed horizon, and sequential at one final look)."""
    truth = true_quantile(level, lift) - true_quantile(level, 1.0)
    covered = fixed_hits = sequential_hits = read = 0
    for _ in range(runs):
        control = arm(rng, orders, 1.0)
        treatment = arm(rng, orders, lift)
        reading = compare_quantiles(
            summarize(level, 4 * len(control), control),
            summarize(level, 4 * len(treatment), treatment),
            alpha=0.05,
            alternative=Alternative.TWO_SIDED,
            planned_units=4 * len(control),
            minimum_values=0,
        )
        if reading.fixed is None or reading.sequential is None:
            continue
        read += 1
        interval = reading.fixed.absolute
        assert interval.ci_low is not None and interval.ci_high is not None
        covered += interval.ci_low <= truth <= interval.ci_high
        fixed_hits += reading.fixed.p_value < 0.05
        sequential_hits += reading.sequential.significant
    return {
        "coverage": covered / read,
        "fixed_positive": fixed_hits / read,
        "sequential_positive": sequential_hits / read,
        "read": read / runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--orders", type=int, nargs="+", default=[50, 200, 2000])
    parser.add_argument("--levels", type=float, nargs="+", default=[0.5, 0.9])
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    for level in args.levels:
        for orders in args.orders:
            lifted = run(rng, orders, level, 1.1, args.runs)
            null = run(rng, orders, level, 1.0, args.runs)
            print(
                f"level {level} orders/arm {orders:>5}: coverage {lifted['coverage']:.3f}  "
                f"A/A coverage {null['coverage']:.3f}  A/A fixed positives "
                f"{null['fixed_positive']:.3f}  A/A sequential positives "
                f"{null['sequential_positive']:.3f}"
            )


if __name__ == "__main__":
    main()
