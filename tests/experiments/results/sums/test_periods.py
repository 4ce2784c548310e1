"""A bandit's period sums: each unit in the update period of its first exposure, against the raw
units of that period; the whole and the segments as without periods; stored and read back
(SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from experiments.metrics import builtin_metrics
from experiments.results.sums.aggregation import GroupKey, aggregate
from experiments.results.sums.stored_sums import stored_aggregates, sums_json
from tests.experiments.results.simulation import START, reference_sums, simulate_shop
from tests.experiments.results.sums.test_levels import only_units

VARIANTS = ["control", "treatment"]
METRICS = [builtin_metrics()[key] for key in ("conversion_rate", "revenue_per_visitor", "aov")]
END = START + timedelta(days=6)
STARTS = [START + timedelta(days=2), START + timedelta(days=3, hours=12)]


def test_each_period_holds_the_units_first_exposed_in_it(engine: Engine) -> None:
    raw = simulate_shop(600, uplift=0.3, seed=21)
    raw.load(engine)
    firsts: dict[str, datetime] = {}
    for row in sorted(raw.exposures, key=lambda row: row["timestamp"]):
        if row["timestamp"] <= END:
            firsts.setdefault(row["unit_id"], row["timestamp"])
    with engine.connect() as connection:
        found = aggregate(connection, "exp", VARIANTS, METRICS, END, periods=STARTS)
        whole = aggregate(connection, "exp", VARIANTS, METRICS, END)
        both = aggregate(
            connection, "exp", VARIANTS, METRICS, END, dimensions=["device"], periods=STARTS
        )
        levels = aggregate(connection, "exp", VARIANTS, METRICS, END, dimensions=["device"])
    assert found.units == whole.units
    assert found.multi_variant_units == whole.multi_variant_units
    for metric in METRICS:
        for variant in VARIANTS:
            assert found.metrics[metric.key][variant].as_fields() == pytest.approx(
                whole.metrics[metric.key][variant].as_fields(), rel=1e-12, abs=1e-9
            )
    bounds = [START - timedelta(days=30), *STARTS, END + timedelta(days=1)]
    for period in range(3):
        units = {u for u, at in firsts.items() if bounds[period] <= at < bounds[period + 1]}
        subset = only_units(raw, units)
        for metric in METRICS:
            expected = reference_sums(subset, metric, END, cuped=True)
            for variant in VARIANTS:
                group = found.periods[GroupKey(variant=variant, period=period)]
                assert group.metrics[metric.key].as_fields() == pytest.approx(
                    expected[variant], rel=1e-9, abs=1e-9
                )
    # With dimensions too: the same periods, the same segments.
    assert both.periods.keys() == found.periods.keys()
    for key, group in found.periods.items():
        assert both.periods[key].units == group.units
    assert {key: group.units for key, group in both.segments.items()} == {
        key: group.units for key, group in levels.segments.items()
    }
    # Stored with the look and read back.
    assert stored_aggregates(sums_json(found)).periods == found.periods
