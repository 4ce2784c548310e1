"""The per-unit spread used to plan a sample size, against numpy on raw per-unit values."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from experiments.metrics import builtin_metrics
from experiments.results.aggregation import VariantSums
from experiments.results.metric_analysis import unit_standard_deviation


def sums_of(numerator: NDArray[np.float64], denominator: NDArray[np.float64]) -> VariantSums:
    return VariantSums(
        n=len(numerator),
        numerator_sum=float(numerator.sum()),
        numerator_sum_squares=float((numerator**2).sum()),
        denominator_sum=float(denominator.sum()),
        denominator_sum_squares=float((denominator**2).sum()),
        cross_sum=float((numerator * denominator).sum()),
        covariate_sum=0.0,
        covariate_sum_squares=0.0,
        covariate_cross_sum=0.0,
    )


def test_mean_metric_spread_is_the_sample_sd() -> None:
    rng = np.random.default_rng(3)
    revenue = np.where(rng.random(5000) < 0.03, rng.lognormal(6.4, 0.6, 5000), 0.0)
    metric = builtin_metrics()["revenue_per_visitor"]
    spread = unit_standard_deviation(metric, sums_of(revenue, np.ones(5000)))
    assert spread == pytest.approx(np.std(revenue, ddof=1), rel=1e-9)


def test_ratio_metric_spread_is_the_linearised_sd() -> None:
    rng = np.random.default_rng(4)
    orders = rng.poisson(0.05, 20000).astype(float)
    revenue = orders * rng.lognormal(6.4, 0.5, 20000)
    metric = builtin_metrics()["aov"]
    ratio = revenue.sum() / orders.sum()
    # The delta method's influence values: (numerator - ratio * denominator) / mean denominator.
    linearised = (revenue - ratio * orders) / orders.mean()
    spread = unit_standard_deviation(metric, sums_of(revenue, orders))
    assert spread == pytest.approx(np.std(linearised, ddof=1), rel=1e-9)


def test_undefined_spread_is_none() -> None:
    metric = builtin_metrics()["aov"]
    assert unit_standard_deviation(metric, sums_of(np.zeros(10), np.zeros(10))) is None
    assert unit_standard_deviation(metric, sums_of(np.ones(1), np.ones(1))) is None
