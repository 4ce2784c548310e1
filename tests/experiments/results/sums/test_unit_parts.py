"""A look over every unit in parts at once (`unit_parts`) gives the sums of one pass: a full look
with segments and periods, and the first look's backfill, on SQLite (the parts after the first
compiled and run each in an interpreter of its own) and PostgreSQL (a connection per part, on
the look's snapshot)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from experiments.db import make_engine
from experiments.results.sums import unit_parts
from experiments.results.sums.aggregation import (
    aggregate,
    at_both_ends,
)
from experiments.results.sums.backfill import daily_aggregates
from experiments.results.sums.both_ends import Cutoff
from experiments.results.sums.groups import Aggregates
from experiments.results.sums.ingestion_marks import take_ceiling
from experiments.results.sums.look_ends import day_ends, first_exposure_at
from experiments.results.sums.unit_columns import EVERY_UNIT, EXPOSURES, UnitRange
from tests.experiments.results.helpers import METRICS
from tests.experiments.results.simulation import START, RawEvents, simulate_shop, with_attributes
from tests.experiments.results.sums.test_incremental import assert_same

VARIANTS = ["control", "treatment"]
END = START + timedelta(days=9, hours=7)
PERIODS = [START + timedelta(days=2), START + timedelta(days=5)]


@pytest.fixture
def in_parts(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[list[UnitRange]]:
    """Every look of the test in parts, whatever its size: three on PostgreSQL, two on SQLite
    (each part after the first starts an interpreter); the ranges each look used."""
    used: list[list[UnitRange]] = []
    split = unit_parts.unit_ranges

    def spied(*args: object, **kwargs: object) -> list[UnitRange]:
        ranges = split(*args, **kwargs)  # type: ignore[arg-type]
        used.append(ranges)
        return ranges

    parts = 2 if engine.dialect.name == "sqlite" else 3
    monkeypatch.setattr(unit_parts, "part_count", lambda: parts)
    monkeypatch.setattr(unit_parts, "MIN_EXPOSURES", 0)
    monkeypatch.setattr(unit_parts, "unit_ranges", spied)
    return used


def one_pass(engine: Engine, **options: object) -> Aggregates:
    with engine.connect() as connection:
        return aggregate(connection, "exp", VARIANTS, METRICS, END, **options)  # type: ignore[arg-type]


def assert_same_periods(got: Aggregates, expected: Aggregates) -> None:
    assert got.periods.keys() == expected.periods.keys()
    for key, group in got.periods.items():
        assert group.units == expected.periods[key].units, key
        for metric, sums in group.metrics.items():
            assert sums.as_fields() == pytest.approx(
                expected.periods[key].metrics[metric].as_fields(), rel=1e-9, abs=1e-9
            ), (key, metric)


def load_shop(engine: Engine, seed: int) -> None:
    """A simulated shop whose exposures carry attributes, in `engine`'s database."""
    raw = simulate_shop(1500, uplift=0.2, seed=seed)
    with_attributes(raw, seed=seed)
    raw.load(engine)


def test_a_full_look_in_parts_is_the_look_in_one_pass(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, in_parts: list[list[UnitRange]]
) -> None:
    load_shop(engine, seed=11)
    # Capped, with segments, and with a bandit's periods: the ways `aggregation` reads the rows
    # of every unit. SQLite starts an interpreter per look: one look with all three there.
    capped = {"cap_percentiles": {METRICS[1].key: 99.0}}
    options: list[dict[str, object]] = [{**capped, "dimensions": ["device"], "periods": PERIODS}]
    if engine.dialect.name != "sqlite":
        options = [{**capped, "dimensions": ["device", "market"]}, {"periods": PERIODS}]
    found = [one_pass(engine, **option) for option in options]
    assert len(in_parts) == len(options)
    assert all(len(ranges) == (2 if engine.dialect.name == "sqlite" else 3) for ranges in in_parts)
    monkeypatch.setattr(unit_parts, "part_count", lambda: 1)
    for option, got in zip(options, found, strict=True):
        expected = one_pass(engine, **option)
        assert_same(got, expected)
        assert_same_periods(got, expected)
        assert got.caps == expected.caps
    assert len(in_parts) == len(options)  # one part: not split


def test_the_backfill_in_parts_is_the_backfill_in_one_pass(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, in_parts: list[list[UnitRange]]
) -> None:
    load_shop(engine, seed=12)
    with engine.connect() as connection:
        first = first_exposure_at(connection, "exp", END)
        assert first is not None
        ends = day_ends(first, END, most=180)
        # Without and with segments; on SQLite (an interpreter per backfill) with segments only.
        segments = [["device"]] if engine.dialect.name == "sqlite" else [[], ["device"]]
        found = [
            daily_aggregates(connection, "exp", VARIANTS, METRICS, ends, dimensions=dimensions)
            for dimensions in segments
        ]
        assert len(in_parts) == len(segments) and all(len(ranges) > 1 for ranges in in_parts)
        monkeypatch.setattr(unit_parts, "part_count", lambda: 1)
        for dimensions, parts in zip(segments, found, strict=True):
            expected = daily_aggregates(
                connection, "exp", VARIANTS, METRICS, ends, dimensions=dimensions
            )
            for got, wanted in zip(parts, expected, strict=True):
                assert_same(got, wanted)


def test_a_part_that_fails_apart_is_run_again_in_process(
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    in_parts: list[list[UnitRange]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    load_shop(engine, seed=14)
    expected = one_pass(engine, dimensions=["device"])  # in parts
    failed: list[object] = []

    def broken(*args: object) -> object:
        failed.append(args)
        raise RuntimeError("the part's process ended with 1: OperationalError")

    # Where the parts after the first run apart, on either database.
    monkeypatch.setattr(unit_parts, "_statements_in_process", broken)
    monkeypatch.setattr(unit_parts, "_on_snapshot", broken)
    got = one_pass(engine, dimensions=["device"])
    assert len(failed) == len(in_parts[-1]) - 1
    assert_same(got, expected)
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    warning = "a part of a look failed apart (RuntimeError); run again here"
    assert warnings == [warning] * len(failed)
    bounds = [span.low for span in in_parts[-1] if span.low]
    assert not any(low in message for low in bounds for message in warnings)


def test_a_failed_process_names_its_error_but_not_its_text(sqlite_url: str) -> None:
    path = sqlite_url.removeprefix("sqlite:///")
    failing = [("SELECT * FROM exposures WHERE unit_id = 'u-secret-7' AND no_such_column", ())]
    with pytest.raises(RuntimeError) as raised:
        unit_parts._statements_in_process(path, lambda: failing)  # noqa: SLF001
    assert str(raised.value) == "the part's process ended with 1: sqlite3.OperationalError"


def test_the_ranges_hold_every_unit_once_in_parts_of_about_equal_size(engine: Engine) -> None:
    raw = simulate_shop(900, uplift=0.0, seed=13)
    raw.load(engine)
    units = sorted({row["unit_id"] for row in raw.exposures})
    with engine.connect() as connection:
        ranges = unit_parts.unit_ranges(connection, "exp", None, 4, smallest=0)
        assert unit_parts.unit_ranges(connection, "exp", None, 4) == [EVERY_UNIT]  # too small
        assert unit_parts.unit_ranges(connection, "exp", None, 1, smallest=0) == [EVERY_UNIT]
    assert len(ranges) == 4
    assert ranges[0].low is None and ranges[-1].high is None
    assert all(a.high == b.low for a, b in zip(ranges, ranges[1:], strict=False))
    sizes = [
        sum(
            (r.low is None or unit >= r.low) and (r.high is None or unit < r.high) for unit in units
        )
        for r in ranges
    ]
    assert sum(sizes) == len(units)
    # Python and both databases order these ASCII ids alike.
    assert max(sizes) - min(sizes) <= len(units) // 10


def test_an_in_memory_database_is_one_part(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unit_parts, "part_count", lambda: 3)
    engine = create_engine("sqlite://", poolclass=StaticPool)
    with engine.connect() as connection:
        assert unit_parts.where_others_run(connection) is None


def test_rows_added_up_per_key() -> None:
    rows = [
        {"variant": "a", "units": 2, "s": 1.5, "t": None},
        {"variant": "b", "units": 1, "s": None, "t": None},
        {"variant": "a", "units": 3, "s": 2.0, "t": None},
        {"variant": "b", "units": 4, "s": 1.0, "t": 2.0},
    ]
    assert unit_parts.added_up(rows, ["units", "s", "t"]) == [
        {"variant": "a", "units": 5, "s": 3.5, "t": None},
        {"variant": "b", "units": 5, "s": 1.0, "t": 2.0},
    ]


def test_compiled_statements_run_apart_as_the_engine_runs_them(sqlite_url: str) -> None:
    # A datetime bound as the engine writes it, an IN list expanded, a quote in a value.
    engine = make_engine(sqlite_url)
    raw = RawEvents()
    raw.expose("it's", "control", START)
    raw.expose("b", "treatment", START + timedelta(hours=2))
    raw.load(engine)
    exposures = EXPOSURES.c
    query = select(exposures.unit_id, exposures.timestamp).where(
        exposures.timestamp <= START + timedelta(hours=1), exposures.unit_id.in_(["it's", "b"])
    )
    with engine.connect() as connection:
        expected = [dict(row) for row in connection.execute(query).mappings()]
    statement = unit_parts.compiled(query, engine.dialect)
    engine.dispose()
    path = sqlite_url.removeprefix("sqlite:///")
    got = unit_parts._statements_in_process(path, lambda: [statement])  # noqa: SLF001
    assert [row["unit_id"] for row in got] == [row["unit_id"] for row in expected] == ["it's"]


def test_an_incremental_looks_part_apart_gives_the_rows_it_gives_here(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    load_shop(engine, seed=15)
    units = select(EXPOSURES.c.unit_id).where(EXPOSURES.c.unit_id.like("%1%"))
    with engine.connect() as connection:
        ceiling = take_ceiling(connection)
        assert ceiling is not None
        then, now = Cutoff(END - timedelta(days=2), ceiling), Cutoff(END, ceiling)
        look = at_both_ends("exp", METRICS, ["device"], units, then, now)
        here, labels = unit_parts.run_part(connection, look, EVERY_UNIT)
    statements, same_labels = unit_parts.compile_part(engine.dialect, look, EVERY_UNIT)
    engine.dispose()
    path = sqlite_url.removeprefix("sqlite:///")
    apart = unit_parts._statements_in_process(path, lambda: statements)  # noqa: SLF001
    assert same_labels == labels
    assert len(here) > 4

    def key(row: unit_parts.Row) -> tuple[str, ...]:
        return tuple(str(row[name]) for name in ("dimension", "level", "look_end", "variant"))

    assert sorted(apart, key=key) == sorted((dict(row) for row in here), key=key)


def test_an_sqlite_part_that_fails_apart_is_run_again_here(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(sqlite_url)
    rows: list[unit_parts.Row] = [{"units": 1}]

    def here(_reader: Connection) -> unit_parts.PartResult:
        return rows, {}

    def broken() -> unit_parts.CompiledPart:
        return [("SELECT * FROM no_such_table WHERE unit_id = 'u-secret-7'", ())], {}

    with engine.connect() as connection:
        got, _ = unit_parts.sqlite_parts(connection, [(here, broken), (here, broken)])
    engine.dispose()
    assert got == rows * 2
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert warnings == ["a part of a look failed apart (RuntimeError); run again here"]
