"""A look's stored sums: by name, with the group key named, and older positional looks still
read back."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from experiments.db import session_scope
from experiments.results.snapshots import take_snapshot
from experiments.results.sums.aggregation import (
    SUM_FIELDS,
    Aggregates,
    GroupKey,
    GroupSums,
    VariantSums,
)
from experiments.results.sums.stored_sums import stored_aggregates, sums_json
from stats import CovariateStats, RatioStats
from tests.experiments.results.helpers import start_experiment
from tests.experiments.results.simulation import START, simulate_shop

# The `sums` the code before named sums (November 2026) stored for the third look of the shop
# in `test_a_look_stored_by_position_reads_back_as_today_stores_it`.
OLD_LOOK = Path(__file__).parent.parent / "data" / "look_sums_2026_11.json"

# The `sums` of a look stored before the sums were named (2026-11): per metric and variant the
# list n, the five metric sums, the four covariate sums, the units with a value (null for
# pasted counts).
OLD_LOOK_SUMS = """{
  "units": {"control": 4, "treatment": 3},
  "multi_variant_units": 1,
  "caps": {"revenue_per_visitor": 120.5},
  "metrics": {
    "revenue_per_visitor": {
      "control": [4, 2.0, 3.0, 4.0, 4.0, 2.0, 1.0, 1.0, 0.5, 0.25, 2],
      "treatment": [3, 1.0, 1.0, 3.0, 3.0, 1.0, 0.0, 0.0, 0.0, 0.0, null]
    }
  },
  "facts": {"verdict": "keep_running"}
}"""

CONTROL = VariantSums(
    totals=RatioStats(
        n=4,
        numerator_sum=2.0,
        numerator_sum_squares=3.0,
        denominator_sum=4.0,
        denominator_sum_squares=4.0,
        cross_sum=2.0,
    ),
    covariate=CovariateStats(
        covariate_sum=1.0,
        covariate_sum_squares=1.0,
        covariate_cross_sum=0.5,
        covariate_denominator_cross_sum=0.25,
    ),
    nonzero_units=2,
)
TREATMENT = VariantSums(
    totals=RatioStats(
        n=3,
        numerator_sum=1.0,
        numerator_sum_squares=1.0,
        denominator_sum=3.0,
        denominator_sum_squares=3.0,
        cross_sum=1.0,
    )
)


def test_an_old_positional_look_still_loads() -> None:
    aggregates = stored_aggregates(json.loads(OLD_LOOK_SUMS))
    assert aggregates.units == {"control": 4, "treatment": 3}
    assert aggregates.multi_variant_units == 1
    assert aggregates.caps == {"revenue_per_visitor": 120.5}
    assert aggregates.metrics == {
        "revenue_per_visitor": {"control": CONTROL, "treatment": TREATMENT}
    }
    assert list(aggregates.groups) == [GroupKey(variant="control"), GroupKey(variant="treatment")]


def test_a_look_stored_by_position_reads_back_as_today_stores_it(engine: Engine) -> None:
    # The checkout template's metrics when the old look was stored (before the median order
    # value joined them).
    start_experiment(
        engine,
        metrics={
            "primary": "conversion_rate",
            "secondary": ["aov", "revenue_per_visitor", "checkout_start_rate"],
            "guardrails": ["cart_abandonment", "refund_rate"],
            "cap_percentiles": {"aov": 99.9, "revenue_per_visitor": 99.9},
        },
    )
    simulate_shop(300, uplift=0.5, seed=3).load(engine)
    with session_scope(engine) as session:
        look = take_snapshot(session, "exp", START + timedelta(days=2, hours=5), on_new_look=None)
        assert look.look == 3
        today = stored_aggregates(look.sums)
    old = stored_aggregates(json.loads(OLD_LOOK.read_text()))
    assert old.units == today.units
    assert old.multi_variant_units == today.multi_variant_units
    assert old.caps == pytest.approx(today.caps, rel=1e-12)
    assert list(old.metrics) == list(today.metrics)
    for metric, per_variant in today.metrics.items():
        for variant, sums in per_variant.items():
            got = old.metrics[metric][variant].as_fields()
            # The old look predates a ratio's pre-period denominator sums: today's are extra.
            now = {name: sums.as_fields()[name] for name in SUM_FIELDS}
            assert got == pytest.approx(now, rel=1e-12), (metric, variant)


def test_sums_are_stored_by_name_with_their_group_named() -> None:
    aggregates = Aggregates.by_variant(
        {"control": 4, "treatment": 3},
        1,
        {"revenue_per_visitor": {"control": CONTROL, "treatment": TREATMENT}},
        {"revenue_per_visitor": 120.5},
    )
    stored: dict[str, Any] = json.loads(json.dumps(sums_json(aggregates)))
    control = stored["groups"][0]
    assert control["group"] == {"variant": "control"}
    assert control["units"] == 4
    assert control["metrics"]["revenue_per_visitor"] == {
        "n": 4,
        "numerator_sum": 2.0,
        "numerator_sum_squares": 3.0,
        "denominator_sum": 4.0,
        "denominator_sum_squares": 4.0,
        "cross_sum": 2.0,
        "covariate_sum": 1.0,
        "covariate_sum_squares": 1.0,
        "covariate_cross_sum": 0.5,
        "covariate_denominator_cross_sum": 0.25,
        "nonzero_units": 2,
    }
    assert stored["groups"][1]["metrics"]["revenue_per_visitor"]["nonzero_units"] is None
    assert stored_aggregates(stored) == aggregates


def test_a_query_leaves_out_the_sums_that_follow_from_others() -> None:
    """A conversion or mean metric's denominator is 1 per unit, an uncapped 0/1 numerator is its
    own square, and without a covariate its sums are 0."""
    sums = VariantSums.from_fields({"n": 5.0, "numerator_sum": 2.0, "nonzero_units": 2.0})
    assert sums.totals == RatioStats(
        n=5,
        numerator_sum=2.0,
        numerator_sum_squares=2.0,
        denominator_sum=5.0,
        denominator_sum_squares=5.0,
        cross_sum=2.0,
    )
    assert sums.covariate == CovariateStats(
        covariate_sum=0.0, covariate_sum_squares=0.0, covariate_cross_sum=0.0
    )
    assert sums.nonzero_units == 2


def test_the_variant_view_reads_the_groups() -> None:
    groups = {
        GroupKey(variant="control"): GroupSums(units=4, metrics={"rpv": CONTROL}),
        GroupKey(variant="treatment"): GroupSums(units=3, metrics={"rpv": TREATMENT}),
    }
    aggregates = Aggregates(groups, multi_variant_units=1)
    assert aggregates.units == {"control": 4, "treatment": 3}
    assert aggregates.metrics == {"rpv": {"control": CONTROL, "treatment": TREATMENT}}
    assert aggregates.exposed_units == 8
