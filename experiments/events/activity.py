"""One experiment's recent events, read straight from the tables: the last hour's exposures
per variant and conversions per event its metrics read, and the events missing for a day.

Shown on its page so a new integration shows up within seconds, without waiting for a look.
Each count is one query on an index's prefix: exposures by (experiment, ..., timestamp) and
conversions by (name, ..., timestamp), so the cost is the experiment's or the event's own
entries, not the tables'. Times are the events' own (`timestamp`), the column those indexes
hold; `events.summary` reports missing events the same way over every experiment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from experiments.events.summary import MISSING_AFTER, missing_events_of
from experiments.metrics import metric_catalog, metric_events
from experiments.models.event import Conversion, Exposure
from experiments.models.experiment import Experiment
from experiments.models.pasted_counts import PastedCount

RECENT = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class RecentActivity:
    """The last `RECENT`'s exposures by variant and conversions by event name (every event
    the metrics read, 0 when none came), and the metrics' events missing for `MISSING_AFTER`."""

    since: datetime
    exposures: dict[str, int]
    conversions: dict[str, int]
    missing: list[dict[str, Any]]


def recent_activity(
    session: Session, experiment: Experiment, now: datetime | None = None
) -> RecentActivity:
    moment = now or datetime.now(UTC)
    since = moment - RECENT
    exposures = dict.fromkeys(experiment.variant_keys(), 0)
    rows = session.execute(
        select(Exposure.variant, func.count())  # type: ignore[call-overload]
        .where(col(Exposure.experiment) == experiment.key)
        .where(col(Exposure.timestamp) >= since)
        .group_by(Exposure.variant)
    ).all()
    exposures |= {str(variant): int(number) for variant, number in rows}
    catalog = metric_catalog(session)
    selection = experiment.metrics
    keys = (selection.primary, *selection.secondary, *selection.guardrails)
    names = sorted(metric_events(catalog[key] for key in keys if key in catalog))
    conversions: dict[str, int] = {}
    last_seen: dict[str, datetime | None] = {}
    for name in names:
        named = col(Conversion.name) == name
        recent = select(func.count()).where(named, col(Conversion.timestamp) >= since)
        latest = select(func.max(Conversion.timestamp)).where(
            named, col(Conversion.timestamp) >= moment - MISSING_AFTER
        )
        conversions[name] = int(session.execute(recent).scalar_one())
        last_seen[name] = _utc(session.execute(latest).scalar_one())
    missing = []
    if experiment.status == "running" and not _pasted(session, experiment.key):
        cutoff = moment - MISSING_AFTER
        missing = list(missing_events_of([experiment], catalog, last_seen, cutoff))
    return RecentActivity(since, exposures, conversions, missing)


def _pasted(session: Session, key: str) -> bool:
    """A newsletter sent by an e-mail tool: its counts are pasted, no events are expected."""
    found = select(col(PastedCount.experiment)).where(col(PastedCount.experiment) == key).limit(1)
    return session.execute(found).first() is not None


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
