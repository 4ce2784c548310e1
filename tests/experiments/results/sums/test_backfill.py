"""The one-pass daily backfill against one full aggregation per day, on simulated raw events."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from experiments.db import make_engine
from experiments.results.sums.aggregation import aggregate
from experiments.results.sums.backfill import daily_aggregates
from experiments.results.sums.look_ends import day_ends, first_exposure_at
from tests.experiments.results.helpers import METRICS
from tests.experiments.results.simulation import START, RawEvents, reference_sums, simulate_shop

VARIANTS = ["control", "treatment"]


def assert_same_as_daily_aggregation(engine: Engine, ends: list[datetime]) -> None:
    with engine.connect() as connection:
        backfilled = daily_aggregates(connection, "exp", VARIANTS, METRICS, ends)
        assert len(backfilled) == len(ends)
        for end, got in zip(ends, backfilled, strict=True):
            expected = aggregate(connection, "exp", VARIANTS, METRICS, end)
            assert got.units == expected.units, end
            assert got.multi_variant_units == expected.multi_variant_units, end
            for metric in METRICS:
                for variant in VARIANTS:
                    # Every field: the CUPED sums of every kind, the covariate x denominator
                    # cross sum and the units with a non-zero value.
                    assert got.metrics[metric.key][variant].as_fields() == pytest.approx(
                        expected.metrics[metric.key][variant].as_fields(), rel=1e-9, abs=1e-6
                    ), (end, metric.key, variant)


def test_every_day_matches_a_full_aggregation(engine: Engine) -> None:
    raw = simulate_shop(2500, uplift=0.2, seed=5)
    raw.load(engine)
    end = START + timedelta(days=9, hours=7)
    with engine.connect() as connection:
        first = first_exposure_at(connection, "exp", end)
    assert first is not None
    ends = day_ends(first, end, most=180)
    assert len(ends) == 10  # midnights of 3-11 March, then the end
    assert_same_as_daily_aggregation(engine, ends)
    # And, for one day, against the plain-Python attribution of the raw rows.
    with engine.connect() as connection:
        day = daily_aggregates(connection, "exp", VARIANTS, METRICS, ends)[3]
    for metric in METRICS:
        expected = reference_sums(raw, metric, ends[3], cuped=True)
        for variant in VARIANTS:
            got = day.metrics[metric.key][variant].as_fields()
            assert got == pytest.approx(expected[variant], rel=1e-9, abs=1e-6), metric.key


def test_boundaries_and_late_second_variants(engine: Engine) -> None:
    """Events exactly on a look's end count in that look; a unit seen in a second variant
    days later leaves the metrics from that look on; ties of first exposures are several."""
    raw = RawEvents()
    midnight = datetime(2026, 3, 3, tzinfo=UTC)
    for index in range(6):
        raw.expose(f"a{index}", VARIANTS[index % 2], midnight - timedelta(hours=index + 1))
        raw.convert(f"a{index}", "purchase", midnight, 100.0 + index)  # exactly on the end
        raw.convert(f"a{index}", "add_to_cart", midnight - timedelta(minutes=30))
        raw.convert(f"a{index}", "purchase", midnight + timedelta(days=1, hours=2), 50.0)
    raw.expose("a0", "treatment", midnight + timedelta(days=1, hours=1))  # several from day 2
    raw.expose("tie", "control", midnight - timedelta(hours=3))
    raw.expose("tie", "treatment", midnight - timedelta(hours=3))
    raw.convert("tie", "purchase", midnight - timedelta(hours=2), 10.0)
    raw.expose("late", "control", midnight + timedelta(days=2, hours=5))
    raw.convert("late", "purchase", midnight - timedelta(days=2), 70.0)  # pre-period only
    raw.load(engine)
    ends = [midnight, midnight + timedelta(days=1), midnight + timedelta(days=2, hours=6)]
    assert_same_as_daily_aggregation(engine, ends)


def test_day_ends_are_midnights_then_the_end() -> None:
    first = datetime(2026, 3, 2, 23, 59, tzinfo=UTC)
    end = datetime(2026, 3, 5, 0, 0, tzinfo=UTC)
    assert day_ends(first, end, most=180) == [
        datetime(2026, 3, 3, tzinfo=UTC),
        datetime(2026, 3, 4, tzinfo=UTC),
        end,
    ]
    assert day_ends(first, end, most=2) == [datetime(2026, 3, 4, tzinfo=UTC), end]
    assert day_ends(end, end, most=180) == [end]


def test_sqlite_backfill_reads_its_units_from_their_table_by_row_number(sqlite_url: str) -> None:
    """On SQLite the per-look grouping and the window sums carry only the unit's row number;
    the unit's variant, second-variant look and levels are read back from the table by it."""
    engine = make_engine(sqlite_url)
    simulate_shop(300, uplift=0.1, seed=9).load(engine)
    end = START + timedelta(days=4)
    statements: list[str] = []
    plans: list[str] = []

    def explain(_conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        # Explained as it runs: the units' temporary table exists only meanwhile.
        if statement.lstrip().startswith(("SELECT", "INSERT", "WITH")):
            found = cursor.connection.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            statements.append(statement)
            plans.append(" | ".join(row[-1] for row in found))

    with engine.connect() as connection:
        ends = day_ends(first_exposure_at(connection, "exp", end) or end, end, most=180)
    event.listen(engine, "before_cursor_execute", explain)
    with engine.connect() as connection:
        daily_aggregates(connection, "exp", VARIANTS, METRICS, ends, dimensions=["device"])
    event.remove(engine, "before_cursor_execute", explain)
    engine.dispose()
    written, (query, plan) = statements[-2], (statements[-1], plans[-1])
    assert "INSERT INTO look_units_" in written  # after the units' CTE
    # Grouped by (row number, look), read as they come, then each row's unit by its number.
    assert re.search(r"GROUP BY rows\.position, rows\.look", query)
    assert "CO-ROUTINE per_look" in plan
    assert "SEARCH units USING INTEGER PRIMARY KEY (rowid=?)" in plan
