"""Bulk writes of validated events into the `exposures` and `conversions` tables.

Each call is one transaction and a handful of statements, never a round trip per event:
SQLite gets one `executemany` per table, PostgreSQL a COPY into a temporary table followed by
one `INSERT ... SELECT ... ON CONFLICT (event_id) DO NOTHING` per table. The unique `event_id`
is the final guard against storing an event twice, whatever path it came by.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.engine import Connection, Engine

from experiments.events.types import ConversionEvent, Event, ExposureEvent

ReceivedEvent = tuple[Event, datetime]
"""A validated event and the moment the API received it."""

# Column types of the PostgreSQL staging tables (no id: ids come from the real table's sequence).
_STAGING_TYPES = {
    "event_id": "text",
    "experiment": "text",
    "variant": "text",
    "name": "text",
    "unit_id": "text",
    "value": "double precision",
    "properties": "json",
    "timestamp": "timestamp",
    "received_at": "timestamp",
}
_EXPOSURE_COLUMNS = ("event_id", "experiment", "variant", "unit_id", "timestamp", "received_at")
_CONVERSION_COLUMNS = (
    "event_id",
    "name",
    "unit_id",
    "value",
    "properties",
    "timestamp",
    "received_at",
)


@dataclass(frozen=True, slots=True)
class StoreOutcome:
    """How many events were new (`inserted`) and how many were already stored or repeated."""

    inserted: int
    duplicates: int


def dedupe(events: Iterable[ReceivedEvent]) -> tuple[list[ReceivedEvent], int]:
    """The first event of each `event_id`, in order, and how many repeats were dropped."""
    seen: set[str] = set()
    unique: list[ReceivedEvent] = []
    repeats = 0
    for item in events:
        event_id = item[0].event_id
        if event_id in seen:
            repeats += 1
            continue
        seen.add(event_id)
        unique.append(item)
    return unique, repeats


def store_events(engine: Engine, events: Sequence[ReceivedEvent]) -> StoreOutcome:
    """Insert `events` in one transaction; ids already stored (or repeated) count as duplicates."""
    unique, repeats = dedupe(events)
    exposures = [
        _exposure_row(event, at) for event, at in unique if isinstance(event, ExposureEvent)
    ]
    conversions = [
        _conversion_row(event, at) for event, at in unique if isinstance(event, ConversionEvent)
    ]
    if not unique:
        return StoreOutcome(inserted=0, duplicates=repeats)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            inserted = _copy_rows(connection, "exposures", _EXPOSURE_COLUMNS, exposures)
            inserted += _copy_rows(connection, "conversions", _CONVERSION_COLUMNS, conversions)
        else:
            inserted = _executemany(connection, "exposures", _EXPOSURE_COLUMNS, exposures)
            inserted += _executemany(connection, "conversions", _CONVERSION_COLUMNS, conversions)
    return StoreOutcome(inserted=inserted, duplicates=repeats + len(unique) - inserted)


def _naive_utc(moment: datetime) -> datetime:
    # The columns hold naive UTC (see experiments.db.UTCDateTime).
    return moment.astimezone(UTC).replace(tzinfo=None)


def _exposure_row(event: ExposureEvent, received_at: datetime) -> tuple[Any, ...]:
    return (
        event.event_id,
        event.experiment,
        event.variant,
        event.unit_id,
        _naive_utc(event.timestamp),
        _naive_utc(received_at),
    )


def _conversion_row(event: ConversionEvent, received_at: datetime) -> tuple[Any, ...]:
    properties = None if event.properties is None else orjson.dumps(event.properties).decode()
    return (
        event.event_id,
        event.name,
        event.unit_id,
        event.value,
        properties,
        _naive_utc(event.timestamp),
        _naive_utc(received_at),
    )


def _executemany(
    connection: Connection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> int:
    if not rows:
        return 0
    # Stored as text in the format SQLAlchemy's SQLite DateTime reads back.
    time_columns = [i for i, name in enumerate(columns) if name in ("timestamp", "received_at")]
    text_rows = [_with_sqlite_times(row, time_columns) for row in rows]
    placeholders = ", ".join("?" for _ in columns)
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders}) "
        "ON CONFLICT (event_id) DO NOTHING"
    )
    result = connection.exec_driver_sql(sql, text_rows)
    # sqlite3 sums the changed rows over an executemany: conflicts change none.
    return max(result.rowcount, 0)


def _with_sqlite_times(row: tuple[Any, ...], time_columns: list[int]) -> tuple[Any, ...]:
    values = list(row)
    for index in time_columns:
        values[index] = values[index].isoformat(sep=" ", timespec="microseconds")
    return tuple(values)


def _copy_rows(
    connection: Connection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> int:
    if not rows:
        return 0
    staging = f"vekst_incoming_{table}"
    column_list = ", ".join(f'"{name}"' for name in columns)
    driver = connection.connection.driver_connection
    with driver.cursor() as cursor:  # type: ignore[union-attr]
        # A temporary table lives per connection; ON COMMIT DELETE ROWS empties it each time.
        definition = ", ".join(f'"{name}" {_STAGING_TYPES[name]}' for name in columns)
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ({definition}) ON COMMIT DELETE ROWS"
        )
        with cursor.copy(f"COPY {staging} ({column_list}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({column_list}) SELECT {column_list} FROM {staging} "
            "ON CONFLICT (event_id) DO NOTHING"
        )
        inserted: int = cursor.rowcount
    return max(inserted, 0)
