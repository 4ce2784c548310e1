"""Quantile metrics: the DKY summaries against a direct computation on raw values, the gate,
and (seeded, small) the interval's coverage and A/A false positives on skewed clustered orders;
the long version is `python -m benchmarks.sim_quantiles`."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks.sim_quantiles import arm, true_quantile
from stats.quantiles import (
    DKY_Z,
    compare_quantiles,
    dky_positions,
    dky_ranks,
    indicator_sd,
    quantile_estimate,
    summarize,
)
from stats.types import Alternative, Reason


def _clusters(seed: int, orders: int) -> list[list[float]]:
    return arm(np.random.default_rng(seed), orders, 1.0)


@pytest.mark.parametrize("level", [0.1, 0.5, 0.9])
def test_summary_matches_numpy_on_raw_values(level: float) -> None:
    clusters = _clusters(1, 300)
    values = np.array([v for c in clusters for v in c])
    summary = summarize(level, 1000, clusters)
    quantile = summary.quantile
    assert quantile is not None
    assert quantile == np.quantile(values, level, method="inverted_cdf")
    # The clustered variance of the share at or below the quantile, computed directly.
    s = np.array([float(sum(v <= quantile for v in c)) for c in clusters])
    n = np.array([len(c) for c in clusters], dtype=float)
    share = s.sum() / n.sum()
    direct = math.sqrt(((s - share * n) ** 2).sum()) / n.sum()
    assert indicator_sd(summary.indicator) == pytest.approx(direct, rel=1e-12)
    low, high = dky_positions(level, summary.indicator)
    ordered = np.sort(values)
    expected = np.interp([low - 1, high - 1], np.arange(len(ordered)), ordered)
    assert [summary.lower, summary.upper] == pytest.approx(list(expected), rel=1e-12)
    assert low <= level * len(values) <= high
    assert set(dky_ranks(level, summary.indicator)) <= {
        math.floor(low),
        math.ceil(low),
        math.floor(high),
        math.ceil(high),
    }


def test_one_order_per_buyer_gives_the_binomial_spread() -> None:
    clusters = [[float(v)] for v in range(1, 401)]
    summary = summarize(0.5, 400, clusters)
    assert indicator_sd(summary.indicator) == pytest.approx(math.sqrt(0.25 / 400))
    estimate = quantile_estimate(summary)
    assert estimate.mean == 200.0
    assert math.sqrt(estimate.variance) == pytest.approx(
        (summary.upper - summary.lower) / (2 * DKY_Z)  # type: ignore[operator]
    )


def test_below_fifty_values_is_withheld_and_ties_are_withheld() -> None:
    small = summarize(0.5, 100, _clusters(2, 30))
    big = summarize(0.5, 100, _clusters(3, 200))
    reading = compare_quantiles(small, big, alpha=0.05, planned_units=100)
    assert reading.fixed is None and reading.withheld is Reason.NOT_ENOUGH_DATA
    flat = summarize(0.5, 100, [[100.0]] * 80)
    tied = compare_quantiles(flat, flat, alpha=0.05, planned_units=100)
    assert tied.fixed is None and tied.withheld is Reason.ZERO_VARIANCE
    assert summarize(0.5, 10, []).quantile is None


def test_difference_and_relative_read_like_other_metrics() -> None:
    control = summarize(0.5, 500, _clusters(4, 400))
    treatment = summarize(0.5, 500, [[v * 1.5 for v in c] for c in _clusters(5, 400)])
    reading = compare_quantiles(control, treatment, alpha=0.05, planned_units=500)
    assert reading.fixed is not None and reading.sequential is not None
    assert reading.fixed.absolute.estimate == treatment.quantile - control.quantile  # type: ignore[operator]
    assert reading.fixed.relative is not None
    assert reading.fixed.relative.estimate == pytest.approx(
        treatment.quantile / control.quantile - 1  # type: ignore[operator]
    )
    # The always-valid interval is wider than the fixed-horizon one, and contains it.
    fixed, sequential = reading.fixed.absolute, reading.sequential.absolute
    assert sequential.ci_low < fixed.ci_low and sequential.ci_high > fixed.ci_high  # type: ignore[operator]
    one_sided = compare_quantiles(
        control, treatment, alpha=0.05, alternative=Alternative.GREATER, planned_units=500
    )
    assert one_sided.fixed is not None and one_sided.fixed.absolute.ci_high is None


@pytest.mark.parametrize("orders", [50, 200])
def test_coverage_and_false_positives_on_skewed_clustered_orders(orders: int) -> None:
    rng = np.random.default_rng(orders)
    runs, covered, positives = 200, 0, 0
    truth = true_quantile(0.5, 1.1) - true_quantile(0.5, 1.0)
    for _ in range(runs):
        control = summarize(0.5, 500, arm(rng, orders, 1.0))
        lifted = summarize(0.5, 500, arm(rng, orders, 1.1))
        reading = compare_quantiles(control, lifted, alpha=0.05, planned_units=500)
        assert reading.fixed is not None
        interval = reading.fixed.absolute
        covered += interval.ci_low <= truth <= interval.ci_high  # type: ignore[operator]
        same = summarize(0.5, 500, arm(rng, orders, 1.0))
        null = compare_quantiles(control, same, alpha=0.05, planned_units=500)
        assert null.fixed is not None
        positives += null.fixed.p_value < 0.05
    # 200 runs: about 2.5 standard errors around 95 % and 5 %.
    assert 0.90 <= covered / runs <= 0.995
    assert positives / runs <= 0.10
