"""One metric's sums to its result: what reaches `stats`, and thin data said plainly."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from experiments.metrics import builtin_metrics
from experiments.results.readings.metric_analysis import (
    MetricSums,
    analyse_metric,
    analyse_metrics,
    stats_inputs,
)
from experiments.results.render import metric_page
from experiments.results.sums.aggregation import VariantSums
from experiments.results.types import MetricIssue
from stats import AnalysisOptions, CovariateStats, ProportionStats, RatioStats, Reason

OPTIONS = AnalysisOptions(alpha=0.05, weights=(1.0, 1.0), planned_units_per_variant=10_000)


def sums_of(
    numerator: NDArray[np.float64],
    denominator: NDArray[np.float64],
    covariate: NDArray[np.float64] | None = None,
    ratio: bool = True,
) -> VariantSums:
    z = np.zeros_like(numerator) if covariate is None else covariate
    return VariantSums(
        RatioStats(
            n=len(numerator),
            numerator_sum=float(numerator.sum()),
            numerator_sum_squares=float((numerator**2).sum()),
            denominator_sum=float(denominator.sum()),
            denominator_sum_squares=float((denominator**2).sum()),
            cross_sum=float((numerator * denominator).sum()),
        ),
        CovariateStats(
            covariate_sum=float(z.sum()),
            covariate_sum_squares=float((z**2).sum()),
            covariate_cross_sum=float((numerator * z).sum()),
            covariate_denominator_cross_sum=float((denominator * z).sum()),
        ),
        nonzero_units=int(np.count_nonzero(denominator if ratio else numerator)),
    )


def _shop(rng: np.random.Generator, units: int, orders: float) -> VariantSums:
    counts = rng.poisson(orders / units, units).astype(float)
    revenue = counts * rng.lognormal(6.5, 1.0, units)
    before = rng.poisson(0.05, units).astype(np.float64) * 600.0
    return sums_of(revenue, counts, covariate=before)


def test_ratio_inputs_carry_the_units_with_an_order_and_the_covariate() -> None:
    rng = np.random.default_rng(1)
    sums = {"control": _shop(rng, 2000, 40), "treatment": _shop(rng, 2000, 40)}
    control, _ = stats_inputs(builtin_metrics()["aov"], sums)
    nonzero = sums["control"].nonzero_units
    assert nonzero is not None and control.nonzero_units == nonzero > 0
    assert control.covariate == sums["control"].covariate


def test_conversion_inputs_carry_the_pre_period_covariate() -> None:
    rng = np.random.default_rng(2)
    converted = (rng.random(3000) < 0.03).astype(float)
    before = (rng.random(3000) < 0.03).astype(float)
    sums = {key: sums_of(converted, np.ones(3000), before, ratio=False) for key in ("a", "b")}
    control, _ = stats_inputs(builtin_metrics()["conversion_rate"], sums)
    assert isinstance(control.stats, ProportionStats)
    assert control.stats.conversions == int(converted.sum())
    assert control.covariate is not None
    assert control.covariate.covariate_cross_sum == float((converted * before).sum())
    assert control.nonzero_units is None


def test_a_handful_of_orders_says_not_enough_data_yet() -> None:
    rng = np.random.default_rng(3)
    sums = {"control": _shop(rng, 1000, 4), "treatment": _shop(rng, 1000, 4)}
    result = analyse_metric(builtin_metrics()["aov"], "secondary", sums, OPTIONS)
    assert result.analysis is not None
    (comparison,) = result.analysis.comparisons
    assert comparison.reason is Reason.NOT_ENOUGH_DATA and not comparison.significant
    assert result.issue is MetricIssue.NOT_ENOUGH_DATA
    assert result.detail is not None and result.detail.startswith("not enough data yet for")
    assert "with an order" in result.detail
    assert metric_page(result).model_dump(mode="json")["reason"] == "not_enough_data"


def test_enough_orders_gives_a_reading_with_cuped() -> None:
    rng = np.random.default_rng(4)
    sums = {"control": _shop(rng, 4000, 200), "treatment": _shop(rng, 4000, 200)}
    result = analyse_metric(builtin_metrics()["aov"], "secondary", sums, OPTIONS)
    assert result.issue is None and result.analysis is not None
    (comparison,) = result.analysis.comparisons
    assert comparison.reason is None and comparison.p_value is not None
    assert comparison.cuped is not None


def test_many_metrics_read_at_once_are_read_as_each_alone() -> None:
    """A breakdown's levels x metrics go through `stats.analyze_many` together (on arrays from
    24 analyses of a kind): each result, a guardrail's margin bounds included, is the one
    `analyse_metric` gives it alone (through `stats.analyze_stats`)."""
    rng = np.random.default_rng(5)
    metrics = builtin_metrics()
    cells = []
    for index in range(30):
        units = 200 + 40 * index
        orders = {"control": _shop(rng, units, 20), "treatment": _shop(rng, units, 22)}
        converted = (rng.random(units) < 0.03).astype(float)
        clicks = {key: sums_of(converted, np.ones(units), ratio=False) for key in ("c", "t")}
        cells += [
            MetricSums(metrics["aov"], "secondary", orders),
            MetricSums(metrics["add_to_cart_rate"], "guardrail", clicks, 0.02),
        ]
    tiny = {"c": sums_of(np.ones(1), np.ones(1)), "t": sums_of(np.ones(5), np.ones(5))}
    cells.append(MetricSums(metrics["aov"], "secondary", tiny))
    together = analyse_metrics(cells, OPTIONS)
    alone = [
        analyse_metric(cell.metric, cell.role, cell.sums, OPTIONS, cell.margin) for cell in cells
    ]
    assert repr(together) == repr(alone)
    assert together[-1].issue is MetricIssue.NOT_ENOUGH_UNITS
    assert together[0].analysis is not None and together[1].margin_bounds
    assert together[1].margin_bounds == alone[1].margin_bounds
