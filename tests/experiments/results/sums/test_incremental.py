"""Incremental looks against full ones, on random streams of events stored in batches.

Each batch is stored, then a look is taken twice: from the previous look's stored sums and the
units whose events were stored since (`incremental_aggregates`), and from every event
(`aggregate`), both at the same end and ingestion mark. The streams have late events (old
timestamps stored in a later batch, earlier exposures among them), events dated after a look's
end, units in several variants, repeated exposures, conversions outside the window and in the
CUPED pre-period, other sources, unexposed units, and levels of a dimension.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import Engine

from experiments.results.sums import incremental, ingestion_marks
from experiments.results.sums.aggregation import Aggregates, aggregate
from experiments.results.sums.incremental import Previous, event_names, incremental_aggregates
from experiments.results.sums.ingestion_marks import mark_of, take_ceiling
from experiments.results.sums.stored_sums import stored_aggregates, sums_json
from experiments.results.sums.unit_columns import EventIds
from tests.experiments.results.helpers import METRICS as ALL_METRICS
from tests.experiments.results.simulation import START, RawEvents

VARIANTS = ["control", "treatment"]
NAMES = ("purchase", "add_to_cart", "checkout_started", "refund")
DEVICES = ("mobile", "desktop", 3, None)
UNITS = [f"u{index}" for index in range(6)]
# One metric of each shape: conversion, ratio with an unless-rule, ratio, mean, a fixed cap, a
# window with a cap, and sources.
METRICS = [
    metric
    for metric in ALL_METRICS
    if metric.key
    in {
        "conversion_rate",
        "cart_abandonment",
        "aov",
        "revenue_per_visitor",
        "capped_aov",
        "rpv_24h",
        "server_aov",
    }
]

# One event: (batch, unit, kind, variant or name, hours from START, value, device or source).
event = st.tuples(
    st.integers(0, 3),
    st.sampled_from([*UNITS, "never-exposed"]),
    st.sampled_from(["exposure", "conversion"]),
    st.integers(0, 3),
    # Mostly among the looks' ends (some after the look that stores them), some in the
    # CUPED pre-period or before it.
    st.one_of(st.floats(0, 5 * 24), st.floats(0, 5 * 24), st.floats(-20 * 24, 0)).map(
        lambda hours: round(hours, 3)
    ),
    st.sampled_from([None, 0.0, 19.5, 250.0, 1200.0, -40.0]),
    st.integers(0, 3),
)
streams = st.lists(event, min_size=1, max_size=40)
look_hours = st.lists(st.floats(0, 5 * 24), min_size=4, max_size=4).map(sorted)


def batches(stream: list[tuple[int, str, str, int, float, float | None, int]]) -> list[RawEvents]:
    found = [RawEvents() for _ in range(4)]
    for batch, unit, kind, choice, hours, value, extra in stream:
        raw, at = found[batch], START + timedelta(hours=hours)
        if kind == "exposure":
            device = DEVICES[extra]
            attributes = None if device is None else {"device": device}
            # A third variant the experiment does not have, now and then.
            variant = (*VARIANTS, "control", "ghost")[choice]
            raw.expose(unit, variant, at, attributes=attributes)
        else:
            source = ("sdk", "server", "admin", "sdk")[extra]
            raw.convert(unit, NAMES[choice], at, value, source=source)  # type: ignore[arg-type]
    for index, raw in enumerate(found):  # event ids unique across batches
        for row in [*raw.exposures, *raw.conversions]:
            row["event_id"] = f"b{index}-{row['event_id']}"
    return found


def assert_same(got: Aggregates, expected: Aggregates) -> None:
    assert got.units == expected.units
    assert got.multi_variant_units == expected.multi_variant_units
    assert set(got.segments) == set(expected.segments)
    groups = {**expected.groups, **expected.segments}
    for key, group in {**got.groups, **got.segments}.items():
        assert group.units == groups[key].units, key
        for metric, sums in group.metrics.items():
            fields, wanted = sums.as_fields(), groups[key].metrics[metric].as_fields()
            counts = ("n", "nonzero_units")
            assert [fields[name] for name in counts] == [wanted[name] for name in counts]
            got_sums = {name: value for name, value in fields.items() if name not in counts}
            expected_sums = {name: value for name, value in wanted.items() if name not in counts}
            assert got_sums == pytest.approx(expected_sums, rel=1e-9, abs=1e-9), (key, metric)


def clear(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM exposures"))
        connection.execute(text("DELETE FROM conversions"))


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    stream=streams,
    hours=look_hours,
    dimensions=st.sampled_from([(), ("device",)]),
    parts=st.sampled_from([1, 3]),
)
def test_an_incremental_look_equals_a_full_one(
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    dimensions: tuple[str, ...],
    stream: list[tuple[int, str, str, int, float, float | None, int]],
    hours: list[float],
    parts: int,
) -> None:
    # The touched units are summed in `parts` parts at once (some empty): on PostgreSQL each on
    # a connection, on SQLite the parts after the first each in an interpreter of its own.
    monkeypatch.setattr(incremental, "MIN_PART_UNITS", 1)
    monkeypatch.setattr(incremental, "MIN_SQLITE_PART_UNITS", 1)
    monkeypatch.setattr(incremental, "part_count", lambda: parts)
    clear(engine)
    previous: Previous | None = None
    names = event_names(METRICS)
    for raw, hour in zip(batches(stream), hours, strict=True):
        raw.load(engine)
        end = START + timedelta(hours=hour)
        with engine.connect() as connection:
            ceiling = take_ceiling(connection)
            assert ceiling is not None
            full = aggregate(
                connection, "exp", VARIANTS, METRICS, end, dimensions=dimensions, ceiling=ceiling
            )
            since = None
            if previous is not None:
                got, _ = incremental_aggregates(
                    connection, "exp", VARIANTS, METRICS, dimensions, previous, end, ceiling
                )
                assert_same(got, full)
                since = previous.reread_from
            mark = mark_of(connection, "exp", names, ceiling, end, since)
        # The next look starts from the sums as stored.
        stored = stored_aggregates(sums_json(full))
        previous = Previous(stored, end, ceiling, mark.reread_from)
    # Every part ran where it was meant to (none was run again here after failing apart).
    assert not [record for record in caplog.records if "failed apart" in record.getMessage()]


def test_an_event_dated_after_the_end_is_read_again_by_the_next_look(engine: Engine) -> None:
    raw = RawEvents()
    raw.expose("a", "control", START)
    raw.convert("a", "purchase", START + timedelta(minutes=4), 100.0)  # a clock ahead
    raw.expose("b", "treatment", START)
    raw.load(engine)
    end = START + timedelta(minutes=1)
    with engine.connect() as connection:
        ceiling = take_ceiling(connection)
        assert ceiling is not None
        mark = mark_of(connection, "exp", ["purchase"], ceiling, end)
        # Nothing stored since: the purchase's unit alone is read again, and now counts.
        later = START + timedelta(minutes=10)
        first = aggregate(connection, "exp", VARIANTS, METRICS, end, ceiling=ceiling)
        previous = Previous(first, end, ceiling, mark.reread_from)
        got, read = incremental_aggregates(
            connection, "exp", VARIANTS, METRICS, (), previous, later, ceiling
        )
        assert read == 1
        assert got.metrics["conversion_rate"]["control"].totals.numerator_sum == 1.0
        assert_same(got, aggregate(connection, "exp", VARIANTS, METRICS, later, ceiling=ceiling))
    assert mark.reread_from.exposures == ceiling.exposures + 1
    assert mark.reread_from.conversions == 1


def test_the_postgresql_mark_waits_for_inserts_in_flight(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An insert not yet committed may hold a smaller id than one already committed: the mark
    is taken once it has ended, so it counts it (or, waiting too long, no mark is taken)."""
    from experiments.db import make_engine

    engine = make_engine(postgres_url)
    insert = text(
        "INSERT INTO exposures (event_id, experiment, variant, unit_id, timestamp, received_at)"
        " VALUES (:id, 'exp', 'control', :id, :at, :at)"
    )
    at = START.replace(tzinfo=None)
    try:
        with engine.connect() as writer:
            writer.execute(insert, {"id": "slow", "at": at})  # drawn first, committed last
            with engine.begin() as fast:
                fast.execute(insert, {"id": "fast", "at": at})
            monkeypatch.setattr(ingestion_marks, "LOCK_TIMEOUT", "100ms")
            with engine.connect() as connection:
                assert take_ceiling(connection) is None
            monkeypatch.setattr(ingestion_marks, "LOCK_TIMEOUT", "5s")
            taken: list[object] = []

            def mark() -> None:
                with engine.connect() as connection:
                    taken.append(take_ceiling(connection))

            waiting = threading.Thread(target=mark)
            waiting.start()
            waiting.join(0.3)
            assert waiting.is_alive()  # held back by the insert in flight
            writer.commit()
        waiting.join(5)
        with engine.connect() as connection:
            largest = connection.execute(text("SELECT max(id) FROM exposures")).scalar_one()
        assert taken and getattr(taken[0], "exposures", None) == largest
    finally:
        engine.dispose()


def test_a_mark_whose_row_is_gone_is_not_unchanged(engine: Engine) -> None:
    raw = RawEvents()
    raw.expose("a", "control", START)
    raw.expose("b", "control", START)
    raw.load(engine)
    with engine.connect() as connection:
        ceiling = take_ceiling(connection)
        assert ceiling is not None
        mark = mark_of(connection, "exp", ["purchase"], ceiling, START + timedelta(hours=1))
        assert ingestion_marks.unchanged(connection, mark)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM exposures WHERE event_id = 'x1'"))
    with engine.connect() as connection:
        assert not ingestion_marks.unchanged(connection, mark)


def test_units_with_quotes_backslashes_and_braces_in_their_ids_are_read_again(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The touched ids are bound as an array's text on PostgreSQL, as a JSON array on SQLite:
    # every id must come back as it was, however it is spelt, and in two parts as in one.
    monkeypatch.setattr(incremental, "MIN_PART_UNITS", 1)
    monkeypatch.setattr(incremental, "MIN_SQLITE_PART_UNITS", 1)
    hostile = ['a"b', "c\\d", "{e,f}", "NULL", " g ", 'h\\"', "ü€😀", "''", "x" * 256]
    first, later = RawEvents(), RawEvents()
    for index, unit in enumerate(hostile):
        first.expose(unit, VARIANTS[index % 2], START)
        later.convert(unit, "purchase", START + timedelta(hours=1), 10.0 + index)
    first.load(engine)
    end = START + timedelta(hours=2)
    with engine.connect() as connection:
        ceiling = take_ceiling(connection)
        assert ceiling is not None
        names = event_names(METRICS)
        mark = mark_of(connection, "exp", names, ceiling, end)
        stored = aggregate(connection, "exp", VARIANTS, METRICS, end, ceiling=ceiling)
    for row in later.conversions:
        row["event_id"] = f"later-{row['event_id']}"
    later.load(engine)
    with engine.connect() as connection:
        now = take_ceiling(connection)
        assert now is not None
        previous = Previous(stored, end, ceiling, mark.reread_from)
        got, read = incremental_aggregates(
            connection, "exp", VARIANTS, METRICS, (), previous, end, now
        )
        full = aggregate(connection, "exp", VARIANTS, METRICS, end, ceiling=now)
    assert read == len(hostile)
    assert got.metrics["conversion_rate"]["control"].totals.numerator_sum == 5.0
    assert_same(got, full)


def test_every_incremental_look_on_postgresql_is_planned_for_its_own_units(
    postgres_url: str,
) -> None:
    """The driver prepares a statement run five times on one connection, and PostgreSQL may
    then plan it once for any values, the touched units' array unknown: the hourly look took
    10.5 s instead of 0.4 s from its eleventh run on one pooled connection. Every look's query
    is planned for its own values instead (`sql_functions.LOOK_SETTINGS`)."""
    from experiments.db import make_engine

    engine = make_engine(postgres_url)
    raw = RawEvents()
    for index in range(6):
        raw.expose(f"u{index}", VARIANTS[index % 2], START)
        raw.convert(f"u{index}", "purchase", START + timedelta(hours=1), 20.0)
    raw.load(engine)
    end = START + timedelta(hours=2)
    try:
        with engine.connect() as connection:
            ceiling = take_ceiling(connection)
            assert ceiling is not None
            stored = aggregate(connection, "exp", VARIANTS, METRICS, end, ceiling=ceiling)
            # Every unit read again, at both ends the same.
            previous = Previous(stored, end, ceiling, EventIds(1, 1))
            for _ in range(12):
                got, _ = incremental_aggregates(
                    connection, "exp", VARIANTS, METRICS, (), previous, end, ceiling
                )
                assert_same(got, stored)
            plans = connection.execute(
                text(
                    "SELECT coalesce(sum(generic_plans), 0) AS generic,"
                    " coalesce(sum(custom_plans), 0) AS custom FROM pg_prepared_statements"
                    " WHERE statement LIKE '%unit_events%'"
                )
            ).one()
    finally:
        engine.dispose()
    assert plans.generic == 0
    assert plans.custom >= 12 - 5  # prepared from its sixth run, and planned anew each time
