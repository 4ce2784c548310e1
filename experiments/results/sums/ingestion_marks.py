"""A look's ingestion mark: the largest event ids it counts, exact while events keep arriving.

Each stored event gets its table's next id as it is stored (an SQLite rowid, a PostgreSQL
identity sequence). A look takes the largest id of each table before it reads (`take_ceiling`)
and counts only the events up to it; the next look reads again only the events above it. That
is exact when no event with an id at or below the mark can be stored after the mark is taken:

- SQLite has one writer at a time, and a new row's id is one more than the largest stored: every
  id up to the largest committed one is final. Should the largest rows be deleted, their ids
  could be taken again; the mark keeps its row's `event_id` (`unchanged`), and a look whose mark
  row is gone or another is a full one.
- PostgreSQL draws ids from a sequence while inserting but commits in any order, so a smaller id
  may still be committed after a larger one is seen. The mark is read in a short transaction of
  its own after `LOCK TABLE exposures, conversions IN SHARE MODE`: that mode waits for every
  transaction holding an insert into them (`ROW EXCLUSIVE`, held until its commit) and holds new
  inserts back for the two index lookups that follow, so every id up to the largest committed
  one is final and every later insert draws a larger one. The events intake inserts by
  `INSERT ... SELECT` inside its transaction, so no id is drawn outside that lock. Lock waits
  longer than `LOCK_TIMEOUT` give no mark (the look is then a full one).

An event counted by id but dated after a look's end (a client clock up to five minutes ahead)
is not counted by that look yet; `reread_start` finds the first such id, and the next look
reads again from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from experiments.results.sums.unit_columns import CONVERSIONS, EXPOSURES, EventIds

LOCK_TIMEOUT = "2s"
"""How long a PostgreSQL mark waits for the inserts in flight before the look gives up on it."""


@dataclass(frozen=True, slots=True)
class IngestionMark:
    """What a look counted of the event tables, stored with it to start the next look from:
    `ceiling` (the largest ids counted), the `event_id` of each of those rows (`event_ids`),
    and `reread_from`: the first ids the next look must read again (above the ceiling unless
    an event counted by id was dated after the look's end)."""

    ceiling: EventIds
    event_ids: tuple[str | None, str | None]
    reread_from: EventIds

    def as_json(self) -> dict[str, Any]:
        tables = zip(("exposures", "conversions"), self.event_ids, strict=True)
        return {
            name: {
                "through": getattr(self.ceiling, name),
                "event_id": event_id,
                "reread_from": getattr(self.reread_from, name),
            }
            for name, event_id in tables
        }

    @classmethod
    def from_json(cls, stored: dict[str, Any]) -> IngestionMark:
        exposures, conversions = stored["exposures"], stored["conversions"]
        return cls(
            EventIds(int(exposures["through"]), int(conversions["through"])),
            (exposures["event_id"], conversions["event_id"]),
            EventIds(int(exposures["reread_from"]), int(conversions["reread_from"])),
        )


def take_ceiling(connection: Connection) -> EventIds | None:
    """The largest id of each event table, every smaller id final (see the module docstring);
    None when PostgreSQL's inserts in flight did not end within `LOCK_TIMEOUT`."""
    if connection.dialect.name != "postgresql":
        return _largest_ids(connection)
    with connection.engine.connect() as own, own.begin():
        own.execute(text("SELECT set_config('lock_timeout', :wait, true)"), {"wait": LOCK_TIMEOUT})
        try:
            own.execute(text("LOCK TABLE exposures, conversions IN SHARE MODE"))
        except OperationalError:
            return None
        return _largest_ids(own)


def mark_of(
    connection: Connection,
    experiment: str,
    events: Sequence[str],
    ceiling: EventIds,
    end: datetime,
    since: EventIds | None = None,
) -> IngestionMark:
    """The mark of a look that counted the events up to `ceiling` and `end`: its rows' event ids
    and where the next look reads again (`reread_start`)."""
    event_ids = (
        _event_id(connection, EXPOSURES, ceiling.exposures),
        _event_id(connection, CONVERSIONS, ceiling.conversions),
    )
    start = reread_start(connection, experiment, events, ceiling, end, since)
    return IngestionMark(ceiling, event_ids, start)


def reread_start(
    connection: Connection,
    experiment: str,
    events: Sequence[str],
    ceiling: EventIds,
    end: datetime,
    since: EventIds | None = None,
) -> EventIds:
    """Per table, the smallest id up to `ceiling` (and from `since`) of an event of
    `experiment` (an exposure) or named in `events` (a conversion) dated after `end`, else the
    id after the ceiling: the next look reads again from there."""
    exposures, conversions = EXPOSURES.c, CONVERSIONS.c
    low = since or EventIds(1, 1)
    first_exposure = select(func.min(exposures.id)).where(
        exposures.id.between(low.exposures, ceiling.exposures),
        exposures.experiment == experiment,
        exposures.timestamp > end,
    )
    first_conversion = select(func.min(conversions.id)).where(
        conversions.id.between(low.conversions, ceiling.conversions),
        conversions.name.in_(sorted(set(events))),
        conversions.timestamp > end,
    )
    found_exposure = connection.execute(first_exposure).scalar_one_or_none()
    found_conversion = connection.execute(first_conversion).scalar_one_or_none()
    return EventIds(
        ceiling.exposures + 1 if found_exposure is None else int(found_exposure),
        ceiling.conversions + 1 if found_conversion is None else int(found_conversion),
    )


def unchanged(connection: Connection, mark: IngestionMark) -> bool:
    """Whether the rows at `mark`'s ceiling are still the ones it saw (no id below it can have
    been taken again since: see the module docstring)."""
    now = (
        _event_id(connection, EXPOSURES, mark.ceiling.exposures),
        _event_id(connection, CONVERSIONS, mark.ceiling.conversions),
    )
    return now == mark.event_ids


def _largest_ids(connection: Connection) -> EventIds:
    largest = [
        connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
        for table in (EXPOSURES, CONVERSIONS)
    ]
    return EventIds(int(largest[0]), int(largest[1]))


def _event_id(connection: Connection, table: Table, row_id: int) -> str | None:
    if row_id == 0:
        return None
    found = connection.execute(select(table.c.event_id).where(table.c.id == row_id))
    value = found.scalar_one_or_none()
    return None if value is None else str(value)
