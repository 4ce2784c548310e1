"""Counts of stored events, and the stream backlog when events go through Redis."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import redis.asyncio
from redis.exceptions import ResponseError
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from experiments.events.streams import StreamKeys
from experiments.metrics import metric_catalog, metric_events
from experiments.models.event import Conversion, Exposure
from experiments.models.experiment import Experiment, ExperimentStatus
from experiments.models.metric import MetricPublic
from experiments.models.pasted_counts import PastedCount

# A metric's event that has not arrived for this long is reported as missing.
MISSING_AFTER = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class EventCounts:
    """Exposures by experiment and variant; conversions by event name (with summed values).

    `unused` lists the conversion names no metric reads (a typo such as `newsletter_opened`,
    or an event waiting for a custom metric): they are stored but count nowhere. `missing`
    lists, per running experiment and metric, the events the metric reads that have not
    arrived in `MISSING_AFTER` (`last_seen` is when one last arrived, or None: never), so a
    `cta` experiment whose page never sends `cta_click` is named before it reads 0 % for weeks.
    """

    exposures: list[dict[str, Any]]
    conversions: list[dict[str, Any]]
    unused: list[dict[str, Any]] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)


def count_events(engine: Engine, now: datetime | None = None) -> EventCounts:
    """Two grouped counts, pushed down to the database, the names no metric uses and the
    metrics' events missing at `now` (default: the current time)."""
    exposures = (
        select(Exposure.experiment, Exposure.variant, func.count())  # type: ignore[call-overload]
        .group_by(Exposure.experiment, Exposure.variant)
        .order_by(Exposure.experiment, Exposure.variant)
    )
    conversions = (
        select(  # type: ignore[call-overload]
            Conversion.name,
            func.count(),
            func.sum(Conversion.value),
            func.max(Conversion.received_at),
        )
        .group_by(Conversion.name)
        .order_by(Conversion.name)
    )
    with engine.connect() as connection:
        exposure_rows = connection.execute(exposures).all()
        conversion_rows = connection.execute(conversions).all()
    with Session(engine) as session:
        catalog = metric_catalog(session)
        running = _running_on_events(session)
    used = metric_events(catalog.values())
    unused = [
        {"name": name, "count": number}
        for name, number, _, _ in conversion_rows
        if name not in used
    ]
    last_seen = {name: _utc(arrived) for name, _, _, arrived in conversion_rows}
    cutoff = (now or datetime.now(UTC)) - MISSING_AFTER
    return EventCounts(
        exposures=[
            {"experiment": experiment, "variant": variant, "count": count}
            for experiment, variant, count in exposure_rows
        ],
        conversions=[
            {"name": name, "count": count, "value_sum": total}
            for name, count, total, _ in conversion_rows
        ],
        unused=unused,
        missing=list(missing_events_of(running, catalog, last_seen, cutoff)),
    )


def _running_on_events(session: Session) -> list[Experiment]:
    """Running experiments fed by events: those with pasted counts (a newsletter sent by an
    e-mail tool) expect none."""
    pasted = select(col(PastedCount.experiment)).distinct()
    query = (
        select(Experiment)
        .where(col(Experiment.status) == ExperimentStatus.RUNNING.value)
        .where(col(Experiment.key).not_in(pasted))
        .order_by(col(Experiment.key))
    )
    return list(session.execute(query).scalars())


def missing_events_of(
    experiments: Iterable[Experiment],
    catalog: Mapping[str, MetricPublic],
    last_seen: Mapping[str, datetime | None],
    cutoff: datetime,
) -> Iterable[dict[str, Any]]:
    for experiment in experiments:
        selection = experiment.metrics
        for key in (selection.primary, *selection.secondary, *selection.guardrails):
            metric = catalog.get(key)
            if metric is None:
                continue
            for event in dict.fromkeys(
                filter(None, (metric.numerator_event, metric.denominator_event))
            ):
                seen = last_seen.get(event)
                if seen is None or seen < cutoff:
                    yield {
                        "experiment": experiment.key,
                        "metric": key,
                        "event": event,
                        "last_seen": seen,
                    }


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes from an aggregate; they are stored in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


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
