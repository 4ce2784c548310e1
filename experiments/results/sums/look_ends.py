"""When looks end: one per UTC day boundary since an experiment's first exposure, then now."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from experiments.models.event import Exposure


def first_exposure_at(connection: Connection, experiment: str, end: datetime) -> datetime | None:
    """The earliest exposure to `experiment` at or before `end` (None without exposures)."""
    exposures = Exposure.__table__.c  # type: ignore[attr-defined]
    query = select(func.min(exposures.timestamp).label("first_at")).where(
        exposures.experiment == experiment, exposures.timestamp <= end
    )
    first: datetime | None = connection.execute(query).mappings().one()["first_at"]
    return first


def day_ends(first: datetime, end: datetime, most: int) -> list[datetime]:
    """UTC midnights after `first` and before `end`, then `end`: one look per day boundary.

    At most `most` ends are returned (the latest ones).
    """
    day = first.astimezone(UTC).date() + timedelta(days=1)
    ends = []
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
    while moment < end:
        ends.append(moment)
        moment += timedelta(days=1)
    ends.append(end)
    return ends[-most:]


def look_day(as_of: datetime) -> date:
    """The UTC day a look covers: a look ending exactly at midnight closes the day before."""
    return (as_of.astimezone(UTC) - timedelta(microseconds=1)).date()
