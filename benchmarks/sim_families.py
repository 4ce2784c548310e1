"""A/A tests with one primary and five secondary metrics, correlated as in a shop: how often
"some secondary moved", uncorrected and read as one family (`readings.families`).

Run from the repository root: python -m benchmarks.sim_families [--runs 1000]
Seeded. Each run has 10,000 visitors per arm, read at 10 looks. Each visitor has an engagement
drawn from a gamma distribution; carts, checkout starts and orders follow it (so the metrics
move together, as in a shop), and each order has a lognormal value. Primary: conversion.
Secondary: add-to-cart rate, checkout-start rate, revenue per visitor, average order value and
carts per visitor. Every look goes through the product's functions: `stats.analyze_stats`, the
running readings of `readings.running` and the family of `readings.families`. Figures for
docs/statistics.md.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from experiments.results.readings.families import with_families
from experiments.results.readings.running import (
    PreviousReadings,
    StoredReading,
    running_readings,
)
from experiments.results.types import FamilyCorrection, MetricResult, Role
from stats import AnalysisOptions, MeanStats, ProportionStats, RatioStats, VariantInput
from stats import analyze_stats as analyze

FloatArray = npt.NDArray[np.float64]
SECONDARY = ("add_to_cart", "checkout_start", "revenue_per_visitor", "aov", "carts_per_visitor")


@dataclass(frozen=True, slots=True)
class FamilyRates:
    """Share of runs in which some secondary comparison was significant: at the last look
    (fixed horizon) and at any look (the running sequential reading), and the runs."""

    fixed: float
    sequential: float
    runs: int

    def standard_error(self, rate: float) -> float:
        return math.sqrt(rate * (1.0 - rate) / self.runs)


def shop_visitors(rng: np.random.Generator, units: int) -> dict[str, FloatArray]:
    """Per-visitor values of one arm, correlated through each visitor's engagement."""
    engagement = rng.gamma(0.5, 2.0, units)
    carts = rng.poisson(0.3 * engagement).astype(float)
    checkout = ((carts > 0) & (rng.random(units) < 0.6)).astype(float)
    orders = rng.poisson(0.04 * engagement * (1 + checkout)).astype(float)
    revenue = np.zeros(units)
    owners = np.repeat(np.arange(units), orders.astype(int))
    np.add.at(revenue, owners, rng.lognormal(6.5, 1.0, owners.size))
    return {
        "conversion": (orders > 0).astype(float),
        "add_to_cart": (carts > 0).astype(float),
        "checkout_start": checkout,
        "revenue_per_visitor": revenue,
        "carts_per_visitor": carts,
        "orders": orders,
    }


def _stats(metric: str, arm: dict[str, FloatArray], size: int) -> VariantInput:
    def head(name: str) -> FloatArray:
        return arm[name][:size]

    if metric == "aov":
        revenue, orders = head("revenue_per_visitor"), head("orders")
        ratio = RatioStats(
            size,
            float(revenue.sum()),
            float(revenue @ revenue),
            float(orders.sum()),
            float(orders @ orders),
            float(revenue @ orders),
        )
        return VariantInput("arm", ratio, nonzero_units=int(np.count_nonzero(orders)))
    values = head(metric)
    if metric in ("conversion", "add_to_cart", "checkout_start"):
        return VariantInput("arm", ProportionStats(size, int(values.sum())))
    mean = MeanStats(size, float(values.sum()), float(values @ values))
    return VariantInput("arm", mean, nonzero_units=int(np.count_nonzero(values)))


def _look(arms: list[dict[str, FloatArray]], size: int, planned: int) -> list[MetricResult]:
    options = AnalysisOptions(planned_units_per_variant=planned)
    results = []
    roles: list[tuple[str, Role]] = [("conversion", "primary")]
    roles += [(metric, "secondary") for metric in SECONDARY]
    for metric, role in roles:
        inputs = [
            _stats(metric, arm, size)._replace(key=key) for arm, key in zip(arms, "ab", strict=True)
        ]
        analysis = analyze(inputs, options)
        results.append(MetricResult(metric, metric, "conversion", "increase", role, (), analysis))
    return results


def secondary_family_aa(
    *, runs: int, units: int, looks: int, seed: int, correction: FamilyCorrection
) -> FamilyRates:
    """A/A: the share of runs in which some secondary metric moved, read with ``correction``."""
    rng = np.random.default_rng(seed)
    sizes = sorted({max(2, units * look // looks) for look in range(1, looks + 1)})
    start = datetime(2026, 1, 1, tzinfo=UTC)
    fixed = sequential = 0
    for _ in range(runs):
        arms = [shop_visitors(rng, units) for _ in range(2)]
        previous: PreviousReadings = {}
        moved_ever = False
        results: list[MetricResult] = []
        for day, size in enumerate(sizes):
            end = start + timedelta(days=day)
            results = running_readings(_look(arms, size, units), previous, end)
            results = with_families(results, correction, 0.05)
            previous = {
                (r.metric, c.variant): StoredReading(c.sequential, r.running_of(c.variant))
                for r in results
                if r.analysis is not None
                for c in r.analysis.comparisons
            }
            moved_ever = moved_ever or _moved(results, sequential=True)
        fixed += _moved(results, sequential=False)
        sequential += moved_ever
    return FamilyRates(fixed / runs, sequential / runs, runs)


def _moved(results: list[MetricResult], *, sequential: bool) -> bool:
    for result in results:
        if result.role != "secondary":
            continue
        for family in result.families.values():
            if family.sequential_significant if sequential else family.significant:
                return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1000)
    runs = parser.parse_args().runs
    started = time.perf_counter()
    print(f"machine: {platform.machine()} cpus={os.cpu_count()} python={platform.python_version()}")
    print("| correction | some secondary moved, fixed horizon (last look) | any look, sequential |")
    print("|---|---|---|")
    for correction in ("none", "bh", "holm"):
        rates = secondary_family_aa(
            runs=runs, units=10_000, looks=10, seed=700, correction=correction
        )
        se = rates.standard_error(0.05)
        print(
            f"| {correction} | {rates.fixed:.3f} | {rates.sequential:.3f} | "
            f"(MC s.e. at 5 %: {se:.3f}, {runs} runs)",
            flush=True,
        )
    print(f"elapsed: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
