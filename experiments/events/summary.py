"""Counts of stored events, and the stream backlog when events go through Redis."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import redis.asyncio
from redis.exceptions import ResponseError
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from experiments.events.streams import StreamKeys
from experiments.metrics import metric_catalog, metric_events
from experiments.models.event import Conversion, Exposure


@dataclass(frozen=True, slots=True)
class EventCounts:
    """Exposures by experiment and variant; conversions by event name (with summed values).

    `unused` lists the conversion names no metric reads (a typo such as `newsletter_opened`,
    or an event waiting for a custom metric): they are stored but count nowhere.
    """

    exposures: list[dict[str, Any]]
    conversions: list[dict[str, Any]]
    unused: list[dict[str, Any]] = field(default_factory=list)


def count_events(engine: Engine) -> EventCounts:
    """Two grouped counts, pushed down to the database, and the names no metric uses."""
    exposures = (
        select(Exposure.experiment, Exposure.variant, func.count())  # type: ignore[call-overload]
        .group_by(Exposure.experiment, Exposure.variant)
        .order_by(Exposure.experiment, Exposure.variant)
    )
    conversions = (
        select(Conversion.name, func.count(), func.sum(Conversion.value))  # type: ignore[call-overload]
        .group_by(Conversion.name)
        .order_by(Conversion.name)
    )
    with engine.connect() as connection:
        exposure_rows = connection.execute(exposures).all()
        conversion_rows = connection.execute(conversions).all()
    with Session(engine) as session:
        used = metric_events(metric_catalog(session).values())
    unused = [
        {"name": name, "count": number} for name, number, _ in conversion_rows if name not in used
    ]
    return EventCounts(
        exposures=[
            {"experiment": experiment, "variant": variant, "count": count}
            for experiment, variant, count in exposure_rows
        ],
        conversions=[
            {"name": name, "count": count, "value_sum": total}
            for name, count, total in conversion_rows
        ],
        unused=unused,
    )


async def stream_backlog(client: redis.asyncio.Redis[bytes], keys: StreamKeys) -> dict[str, Any]:
    """Entries (batches) not yet stored, how many of those a worker has read but not acked, and
    how many dead letters (entries or events that could not be stored) wait in `keys.dead_letters`.

    Workers delete an entry once stored, so the stream's length is the backlog.
    """
    entries = await client.xlen(keys.stream)
    dead_letters = await client.xlen(keys.dead_letters)
    pending = 0
    consumers = 0
    try:
        groups = await client.xinfo_groups(keys.stream)  # type: ignore[no-untyped-call]
    except ResponseError:  # no stream yet: nothing was ever buffered
        groups = []
    for group in groups:
        if group.get("name") in (keys.group, keys.group.encode()):
            pending = int(group.get("pending", 0))
            consumers = int(group.get("consumers", 0))
    return {
        "stream": keys.stream,
        "entries": entries,
        "pending": pending,
        "consumers": consumers,
        "dead_letters": dead_letters,
    }
