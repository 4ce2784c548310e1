"""Bulk storage on SQLite and PostgreSQL: every event once, duplicates counted exactly."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from experiments.db import make_engine
from experiments.events.store import store_events
from experiments.events.types import AttributedExposure, ConversionEvent, Event, ExposureEvent
from experiments.models.event import Conversion, Exposure
from tests.experiments.events.helpers import NOW, exposures, purchases


def test_events_round_trip_with_exact_duplicates(database_url: str) -> None:
    engine = make_engine(database_url)
    received = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    batch = [(event, received) for event in exposures(300) + purchases(200)]
    first = store_events(engine, batch + batch[:10])
    assert (first.inserted, first.duplicates) == (500, 10)
    again = store_events(engine, batch[250:] + [(purchases(1, "new")[0], received)])
    assert (again.inserted, again.duplicates) == (1, 250)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Exposure)).scalar() == 300
        assert connection.execute(select(func.count()).select_from(Conversion)).scalar() == 201
    with Session(engine) as session:
        stored = session.exec(select(Conversion).where(col(Conversion.event_id) == "p7")).one()
    expected = purchases(8)[7]
    assert isinstance(expected, ConversionEvent)
    assert (stored.name, stored.unit_id, stored.value) == ("purchase", "unit-7", 107.0)
    assert stored.properties == {"n": 7}
    assert stored.timestamp == NOW and stored.received_at == received
    engine.dispose()


def test_each_event_is_stored_with_its_source(database_url: str) -> None:
    engine = make_engine(database_url)
    received = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    events: list[Event] = [
        ExposureEvent("x", "u", NOW, "checkout", "a", "server"),
        ConversionEvent("p", "u", NOW, "purchase", 1.0, None, "admin"),
        ConversionEvent("q", "u", NOW, "purchase", 2.0),  # sdk unless said otherwise
    ]
    assert store_events(engine, [(event, received) for event in events]).inserted == 3
    with Session(engine) as session:
        assert session.exec(select(Exposure.source)).all() == ["server"]
        conversions = session.exec(select(Conversion.event_id, Conversion.source)).all()
    assert sorted(conversions) == [("p", "admin"), ("q", "sdk")]
    engine.dispose()


def test_empty_batch_stores_nothing(database_url: str) -> None:
    engine = make_engine(database_url)
    outcome = store_events(engine, [])
    assert (outcome.inserted, outcome.duplicates) == (0, 0)
    engine.dispose()


def test_every_column_type_survives_the_copy(database_url: str) -> None:
    # PostgreSQL receives a binary COPY: text, float8 (an integral value too), timestamps, and
    # JSON as its text, cast by the INSERT (a JSON string value must not arrive quoted again).
    engine = make_engine(database_url)
    received = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    properties = {"note": 'say "hei" – blåbær', "n": -(2**62), "ok": True, "none": None}
    events: list[Event] = [
        ConversionEvent("a", "ü-unit", NOW, "purchase", 3, properties),
        ConversionEvent("b", "u", NOW, "purchase", -0.5, {"s": '{"x": 1}'}),
        ConversionEvent("c", "u", NOW, "purchase"),
        AttributedExposure("x", "ü-unit", NOW, "checkout", "a", "sdk", {"country": "NO"}),
    ]
    assert store_events(engine, [(event, received) for event in events]).inserted == 4
    with Session(engine) as session:
        rows = {c.event_id: c for c in session.exec(select(Conversion)).all()}
        exposure = session.exec(select(Exposure)).one()
    assert (rows["a"].unit_id, rows["a"].value, rows["a"].properties) == ("ü-unit", 3.0, properties)
    assert (rows["b"].value, rows["b"].properties) == (-0.5, {"s": '{"x": 1}'})
    assert (rows["c"].value, rows["c"].properties) == (None, None)
    assert rows["c"].timestamp == NOW and rows["c"].received_at == received
    assert (exposure.unit_id, exposure.attributes) == ("ü-unit", {"country": "NO"})
    engine.dispose()
