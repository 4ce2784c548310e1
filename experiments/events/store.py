"""Bulk writes of validated events into the `exposures` and `conversions` tables.

Each call is one transaction and a handful of statements, never a round trip per event:
SQLite gets one `executemany` per table, PostgreSQL a COPY into a temporary table followed by
one `INSERT ... SELECT ... ON CONFLICT (event_id) DO NOTHING` per table (exposures with
attributes by a second statement of their own). The unique `event_id` is the final guard against
storing an event twice, whatever path it came by.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.engine import Connection, Engine

from experiments.events.types import (
    AttributedExposure,
    ConversionEvent,
    Event,
    ExposureEvent,
)

ReceivedEvent = tuple[Event, datetime]
"""A validated event and the moment the API received it."""

Row = tuple[Any, ...]

# Column types of the PostgreSQL staging tables (no id: ids come from the real table's sequence).
# COPY sends them in binary, which psycopg writes in C from these types (a third of the client's
# time for text COPY, which formats value by value). JSON travels as its text (a binary `json`
# value would be the Python object dumped again, so a string would arrive quoted) and the
# INSERT ... SELECT casts it (`_JSON_COLUMNS`).
_STAGING_TYPES = {
    "event_id": "text",
    "experiment": "text",
    "variant": "text",
    "name": "text",
    "unit_id": "text",
    "value": "float8",
    "properties": "text",
    "timestamp": "timestamp",
    "received_at": "timestamp",
    "source": "text",
    "attributes": "text",
}
_JSON_COLUMNS = frozenset({"properties", "attributes"})
EXPOSURE_COLUMNS = (
    "event_id",
    "experiment",
    "variant",
    "unit_id",
    "timestamp",
    "received_at",
    "source",
)
# Exposures with attributes go in a statement of their own, so the usual batch, none of whose
# exposures has any, is written exactly as before they existed.
ATTRIBUTED_EXPOSURE_COLUMNS = (*EXPOSURE_COLUMNS, "attributes")
CONVERSION_COLUMNS = (
    "event_id",
    "name",
    "unit_id",
    "value",
    "properties",
    "timestamp",
    "received_at",
    "source",
)

# One PostgreSQL staging table per column set (a temporary table keeps the columns it was made
# with, and its rows until the commit).
_STAGING_TABLES = {
    EXPOSURE_COLUMNS: "vekst_incoming_exposures",
    ATTRIBUTED_EXPOSURE_COLUMNS: "vekst_incoming_attributed_exposures",
    CONVERSION_COLUMNS: "vekst_incoming_conversions",
}


@dataclass(frozen=True, slots=True)
class StoreOutcome:
    """How many events were new (`inserted`) and how many were already stored or repeated."""

    inserted: int
    duplicates: int


@dataclass(frozen=True, slots=True)
class PreparedRows:
    """A batch turned into table rows (repeats dropped), ready for one transaction:
    `exposures` without attributes, `attributed` exposures with them, `conversions`."""

    exposures: list[Row]
    attributed: list[Row]
    conversions: list[Row]
    repeats: int

    @property
    def count(self) -> int:
        return len(self.exposures) + len(self.attributed) + len(self.conversions)


def dedupe(events: Iterable[ReceivedEvent]) -> tuple[list[ReceivedEvent], int]:
    """The first event of each `event_id`, in order, and how many repeats were dropped."""
    events = list(events)
    if len({item[0].event_id for item in events}) == len(events):
        return events, 0  # the usual batch: no repeats, and no loop in Python
    seen: set[str] = set()
    unique: list[ReceivedEvent] = []
    for item in events:
        event_id = item[0].event_id
        if event_id not in seen:
            seen.add(event_id)
            unique.append(item)
    return unique, len(events) - len(unique)


def prepare_rows(events: Iterable[ReceivedEvent], sqlite: bool) -> PreparedRows:
    """Rows for both tables; times as naive UTC (text in SQLAlchemy's format on SQLite).

    A batch's times repeat (its receive time always, event times often: intake shares one
    datetime per distinct epoch millisecond), so each distinct moment is converted once.
    """
    unique, repeats = dedupe(events)
    convert = _sqlite_time if sqlite else _naive_utc
    converted: dict[datetime, Any] = {}
    known = converted.get  # a converted moment is never falsy (a datetime, or non-empty text)

    def moment(value: datetime) -> Any:
        found = converted[value] = convert(value)
        return found

    exposures: list[Row] = []
    attributed: list[Row] = []
    conversions: list[Row] = []
    for event, received_at in unique:
        received = known(received_at) or moment(received_at)
        stamp = event.timestamp
        timestamp = known(stamp) or moment(stamp)
        if type(event) is ExposureEvent:
            exposures.append(
                (
                    event.event_id,
                    event.experiment,
                    event.variant,
                    event.unit_id,
                    timestamp,
                    received,
                    event.source,
                )
            )
        elif isinstance(event, AttributedExposure):
            attributed.append(_attributed_row(event, timestamp, received))
        elif isinstance(event, ConversionEvent):
            conversions.append(_conversion_row(event, timestamp, received))
    return PreparedRows(exposures, attributed, conversions, repeats)


def store_events(engine: Engine, events: Sequence[ReceivedEvent]) -> StoreOutcome:
    """Insert `events` in one transaction; ids already stored (or repeated) count as duplicates."""
    sqlite = engine.dialect.name != "postgresql"
    rows = prepare_rows(events, sqlite)
    if not rows.count:
        return StoreOutcome(inserted=0, duplicates=rows.repeats)
    with engine.begin() as connection:
        inserted = insert_rows(connection, rows)
    return StoreOutcome(inserted=inserted, duplicates=rows.repeats + rows.count - inserted)


def insert_rows(connection: Connection, rows: PreparedRows) -> int:
    """Insert prepared rows inside the caller's transaction; returns how many were new."""
    write = _copy_rows if connection.dialect.name == "postgresql" else _executemany
    return (
        write(connection, "exposures", EXPOSURE_COLUMNS, rows.exposures)
        + write(connection, "exposures", ATTRIBUTED_EXPOSURE_COLUMNS, rows.attributed)
        + write(connection, "conversions", CONVERSION_COLUMNS, rows.conversions)
    )


def _naive_utc(moment: datetime) -> datetime:
    # The columns hold naive UTC (see experiments.db.UTCDateTime).
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None)


def _sqlite_time(moment: datetime) -> str:
    # Stored as text in the format SQLAlchemy's SQLite DateTime reads back.
    return _naive_utc(moment).isoformat(sep=" ", timespec="microseconds")


def _conversion_row(event: ConversionEvent, timestamp: Any, received: Any) -> Row:
    properties = None if event.properties is None else _json_text(event.properties)
    return (
        event.event_id,
        event.name,
        event.unit_id,
        event.value,
        properties,
        timestamp,
        received,
        event.source,
    )


def _attributed_row(event: AttributedExposure, timestamp: Any, received: Any) -> Row:
    return (
        event.event_id,
        event.experiment,
        event.variant,
        event.unit_id,
        timestamp,
        received,
        event.source,
        _json_text(event.attributes),
    )


def _json_text(value: dict[str, Any]) -> str:
    return orjson.dumps(value).decode()


def _executemany(
    connection: Connection, table: str, columns: Sequence[str], rows: list[Row]
) -> int:
    if not rows:
        return 0
    placeholders = ", ".join("?" for _ in columns)
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders}) "
        "ON CONFLICT (event_id) DO NOTHING"
    )
    result = connection.exec_driver_sql(sql, rows)
    # sqlite3 sums the changed rows over an executemany: conflicts change none.
    return max(result.rowcount, 0)


def _copy_rows(
    connection: Connection, table: str, columns: tuple[str, ...], rows: list[Row]
) -> int:
    if not rows:
        return 0
    staging = _STAGING_TABLES[columns]
    column_list = ", ".join(f'"{name}"' for name in columns)
    driver = connection.connection.driver_connection
    with driver.cursor() as cursor:  # type: ignore[union-attr]
        # A temporary table lives per connection; ON COMMIT DELETE ROWS empties it each time.
        definition = ", ".join(f'"{name}" {_STAGING_TYPES[name]}' for name in columns)
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ({definition}) ON COMMIT DELETE ROWS"
        )
        with cursor.copy(f"COPY {staging} ({column_list}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([_STAGING_TYPES[name] for name in columns])
            for row in rows:
                copy.write_row(row)
        selected = ", ".join(
            f'"{name}"::json' if name in _JSON_COLUMNS else f'"{name}"' for name in columns
        )
        cursor.execute(
            f"INSERT INTO {table} ({column_list}) SELECT {selected} FROM {staging} "
            "ON CONFLICT (event_id) DO NOTHING"
        )
        inserted: int = cursor.rowcount
    return max(inserted, 0)
