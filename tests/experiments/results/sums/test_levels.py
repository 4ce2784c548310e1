"""Segments' sums: each level of each dimension against the raw units of that level, the
first-exposure freeze, `(none)`, the cap into `other`, and the backfill against one aggregation
per day (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from experiments.results.sums.aggregation import aggregate
from experiments.results.sums.backfill import daily_aggregates
from experiments.results.sums.levels import MAX_LEVELS, NONE_LEVEL, OTHER_LEVEL
from tests.experiments.results.helpers import METRICS
from tests.experiments.results.simulation import (
    START,
    RawEvents,
    reference_sums,
    simulate_shop,
    with_attributes,
)

VARIANTS = ["control", "treatment"]
DIMENSIONS = ["device", "market", "returning"]
END = START + timedelta(days=6)


def level_of(attributes: dict[str, Any], dimension: str) -> str:
    value = attributes.get(dimension)
    if value is None:
        return NONE_LEVEL
    return value if isinstance(value, str) else ("true" if value else "false")


def only_units(raw: RawEvents, units: set[str]) -> RawEvents:
    subset = RawEvents()
    subset.exposures = [row for row in raw.exposures if row["unit_id"] in units]
    subset.conversions = [row for row in raw.conversions if row["unit_id"] in units]
    return subset


def test_each_level_equals_its_raw_units(engine: Engine) -> None:
    raw = simulate_shop(900, uplift=0.3, seed=11)
    first = with_attributes(raw, seed=3)
    raw.load(engine)
    with engine.connect() as connection:
        found = aggregate(connection, "exp", VARIANTS, METRICS, END, dimensions=DIMENSIONS)
        whole = aggregate(connection, "exp", VARIANTS, METRICS, END)
    assert found.dimensions == DIMENSIONS
    # The whole is the same as without dimensions.
    assert found.units == whole.units
    assert found.multi_variant_units == whole.multi_variant_units
    for metric in METRICS:
        for variant in VARIANTS:
            assert found.metrics[metric.key][variant].as_fields() == pytest.approx(
                whole.metrics[metric.key][variant].as_fields(), rel=1e-12, abs=1e-9
            )
    for dimension in DIMENSIONS:
        levels = found.levels(dimension)
        expected_levels = {level_of(attributes, dimension) for attributes in first.values()}
        assert set(levels) == expected_levels, dimension
        for level, sums in levels.items():
            units = {u for u, a in first.items() if level_of(a, dimension) == level}
            subset = only_units(raw, units)
            for metric in METRICS:
                expected = reference_sums(subset, metric, END, cuped=True)
                for variant in VARIANTS:
                    got = sums.metrics[metric.key][variant].as_fields()
                    assert got == pytest.approx(expected[variant], rel=1e-9, abs=1e-9), (
                        dimension,
                        level,
                        metric.key,
                        variant,
                    )


def test_the_first_exposure_fixes_the_level(engine: Engine) -> None:
    """A later exposure with another value does not move a unit; an exposure with an earlier
    timestamp that arrives later does."""
    raw = RawEvents()
    noon = datetime(2026, 3, 2, 12, tzinfo=UTC)
    raw.expose("stays", "control", noon, attributes={"device": "mobile"})
    raw.expose("stays", "control", noon + timedelta(hours=1), attributes={"device": "desktop"})
    raw.expose("moves", "control", noon, attributes={"device": "desktop"})
    raw.expose("moves", "control", noon - timedelta(hours=1), attributes={"device": "mobile"})
    raw.expose("bare", "treatment", noon)
    raw.expose("bare", "treatment", noon + timedelta(hours=1), attributes={"device": "mobile"})
    raw.load(engine)
    with engine.connect() as connection:
        found = aggregate(connection, "exp", VARIANTS, METRICS[:1], END, dimensions=["device"])
    levels = found.levels("device")
    assert {level: sums.units for level, sums in levels.items()} == {
        "mobile": {"control": 2, "treatment": 0},
        NONE_LEVEL: {"control": 0, "treatment": 1},
    }


def test_levels_beyond_the_cap_are_summed_as_other(engine: Engine) -> None:
    raw = RawEvents()
    noon = datetime(2026, 3, 2, 12, tzinfo=UTC)
    counts = Counter[str]()
    for market in range(MAX_LEVELS + 5):
        for copy in range(MAX_LEVELS + 5 - market):  # market m0 largest
            unit = f"u{market}-{copy}"
            raw.expose(unit, VARIANTS[copy % 2], noon, attributes={"market": f"m{market:02d}"})
            counts[f"m{market:02d}"] += 1
    raw.load(engine)
    with engine.connect() as connection:
        found = aggregate(connection, "exp", VARIANTS, METRICS[:1], END, dimensions=["market"])
    levels = found.levels("market")
    kept = [f"m{market:02d}" for market in range(MAX_LEVELS)]
    assert list(levels) == [*kept, OTHER_LEVEL]
    rest = sum(counts[f"m{market:02d}"] for market in range(MAX_LEVELS, MAX_LEVELS + 5))
    assert sum(levels[OTHER_LEVEL].units.values()) == rest
    assert sum(sum(level.units.values()) for level in levels.values()) == sum(counts.values())


def test_the_backfill_gives_each_days_levels(engine: Engine) -> None:
    raw = simulate_shop(500, uplift=0.2, seed=7)
    with_attributes(raw, seed=4)
    raw.load(engine)
    ends = [START + timedelta(days=day) for day in (1, 2, 4)] + [END]
    with engine.connect() as connection:
        looks = daily_aggregates(connection, "exp", VARIANTS, METRICS, ends, dimensions=DIMENSIONS)
        for end, got in zip(ends, looks, strict=True):
            expected = aggregate(connection, "exp", VARIANTS, METRICS, end, dimensions=DIMENSIONS)
            assert got.units == expected.units, end
            assert got.multi_variant_units == expected.multi_variant_units, end
            assert list(got.segments) == list(expected.segments), end
            for key, group in expected.segments.items():
                assert got.segments[key].units == group.units, (end, key)
                for metric, sums in group.metrics.items():
                    assert got.segments[key].metrics[metric].as_fields() == pytest.approx(
                        sums.as_fields(), rel=1e-9, abs=1e-6
                    ), (end, key, metric)
