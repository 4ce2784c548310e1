"""The plan at the start: from the design, a list, or the design's baseline assumption (its re-plan
from the observed data is `test_replan`)."""

from __future__ import annotations

import pytest

from experiments.metrics import builtin_metrics
from experiments.models.experiment import Design
from experiments.models.metric import DEFAULT_BASELINE
from experiments.planning import planned_units
from stats import sample_size

METRICS = builtin_metrics()


def test_a_given_plan_is_kept() -> None:
    design = Design(planned_units_per_variant=5000)
    assert planned_units(design, METRICS["conversion_rate"], 2) == 5000


def test_conversion_plan_is_the_sequential_size_at_the_baseline_assumption() -> None:
    default = planned_units(Design(), METRICS["conversion_rate"], 2)
    assert (
        default
        == sample_size(
            mde_relative=0.1, baseline_rate=DEFAULT_BASELINE["conversion"]
        ).units_per_variant
    )
    assumed = planned_units(
        Design(baseline_rate=0.05, mde_relative=0.2), METRICS["conversion_rate"], 3
    )
    expected = sample_size(mde_relative=0.2, baseline_rate=0.05, variants=3)
    assert assumed == expected.units_per_variant
    # The sequential plan is about 1.9 times the fixed-horizon one.
    fixed = sample_size(mde_relative=0.2, baseline_rate=0.05, variants=3, test="fixed")
    assert assumed == pytest.approx(1.9 * fixed.units_per_variant, rel=0.1)


@pytest.mark.parametrize("key", ["aov", "revenue_per_visitor"])
def test_mean_and_ratio_plans_use_the_coefficient_of_variation(key: str) -> None:
    metric = METRICS[key]
    default = planned_units(Design(), metric, 2)
    cv = DEFAULT_BASELINE[metric.kind]
    assert (
        default
        == sample_size(mde_relative=0.1, baseline_mean=1.0, baseline_sd=cv).units_per_variant
    )
    smaller = planned_units(Design(baseline_cv=1.0), metric, 2)
    assert default is not None and smaller is not None and smaller < default


def test_no_finite_plan_is_none() -> None:
    design = Design(baseline_rate=0.6, mde_relative=1.0)  # a treated rate of 120 %
    assert planned_units(design, METRICS["conversion_rate"], 2) is None
