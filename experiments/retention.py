"""Retention: archive old events to compressed newline-delimited JSON, then delete them.

What a result can still be read from is never removed. An experiment whose results are still
computed from its events keeps every one of its exposures, and every conversion from the first
of its exposures on: its metrics count a unit's conversions from the unit's first exposure. Such
an experiment is one that runs, or one that stopped, unless the prune is asked to release the
stopped ones (`stopped=True`) and its final look is stored (a look as of its stop: its results
are served from that look from then on, `results.snapshots`). So conversions are pruned only
before the earliest exposure of any experiment still read from events (and before `before`),
and exposures only of the others: archived experiments, released stopped ones, experiments no
longer defined. Results of the pruned experiments are no longer computed from events after this
(a page `as_of` an earlier moment is; it then counts what is left).

Each table is archived first (one gzip file per table, rows in id order, one JSON object per
line with every stored column) and only the rows written to the archive are deleted afterwards,
in batches, so an event stored while the prune runs is never deleted unarchived.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Table, and_, delete, exists, func, not_, select
from sqlalchemy.engine import Engine

from experiments.errors import ConflictError, NotFoundError
from experiments.models.event import Conversion, Exposure
from experiments.models.experiment import SERVED_STATUSES, Experiment, ExperimentStatus
from experiments.models.snapshot import ResultSnapshot

DELETE_BATCH = 5_000
READ_BATCH = 10_000
_EXPOSURES: Table = Exposure.__table__  # type: ignore[attr-defined]
_CONVERSIONS: Table = Conversion.__table__  # type: ignore[attr-defined]
_EXPERIMENTS: Table = Experiment.__table__  # type: ignore[attr-defined]
_SNAPSHOTS: Table = ResultSnapshot.__table__  # type: ignore[attr-defined]
# A stopped experiment's final look: one as of its stop or later (what `take_snapshot` serves
# for good once stored).
_FINAL_LOOK_STORED = exists().where(
    _SNAPSHOTS.c.experiment == _EXPERIMENTS.c.key,
    _SNAPSHOTS.c.as_of >= _EXPERIMENTS.c.stopped_at,
)


@dataclass(frozen=True, slots=True)
class TableReport:
    """Rows archived to `archive` and then deleted (`None`: nothing matched, no file)."""

    table: str
    removed: int
    archive: Path | None


@dataclass(frozen=True, slots=True)
class PruneReport:
    """What a prune removed, and what it kept back for live experiments' results; `released`:
    the stopped experiments whose events went because their final look is stored."""

    before: datetime
    conversions_before: datetime
    kept_for: list[str]
    released: list[str] = field(default_factory=list)
    tables: list[TableReport] = field(default_factory=list)

    @property
    def removed(self) -> int:
        return sum(table.removed for table in self.tables)


@dataclass(frozen=True, slots=True)
class _Readers:
    """The experiments whose results are still read from events (`live`), and the stopped
    experiments let go because their final look is stored (`released`)."""

    live: list[str]
    released: list[str]


def _readers(engine: Engine, release_stopped: bool) -> _Readers:
    query = select(
        _EXPERIMENTS.c.key, _EXPERIMENTS.c.status, _FINAL_LOOK_STORED.label("final")
    ).where(_EXPERIMENTS.c.status.in_(SERVED_STATUSES))
    with engine.connect() as connection:
        rows = sorted(connection.execute(query).all())
    stopped = ExperimentStatus.STOPPED.value
    released = [
        key for key, status, final in rows if release_stopped and status == stopped and final
    ]
    return _Readers([key for key, _, _ in rows if key not in released], released)


def _conversion_cutoff(engine: Engine, before: datetime, live: list[str]) -> datetime:
    if not live:
        return before
    first = select(func.min(_EXPOSURES.c.timestamp)).where(_EXPOSURES.c.experiment.in_(live))
    with engine.connect() as connection:
        earliest: datetime | None = connection.execute(first).scalar()
    if earliest is None:
        return before
    earliest = earliest if earliest.tzinfo else earliest.replace(tzinfo=UTC)
    return min(before, earliest)


def prune_events(
    engine: Engine,
    before: datetime,
    archive_dir: Path,
    experiment: str | None = None,
    *,
    stopped: bool = False,
) -> PruneReport:
    """Archive, then delete, the events older than `before` that no live experiment needs;
    with `experiment`, only that experiment's exposures (archived, or with `stopped` stopped
    with its final look stored). `stopped` also lets go of every stopped experiment whose
    final look is stored. Blocking."""
    readers = _readers(engine, stopped)
    live = readers.live
    if experiment is not None:
        return _prune_one(engine, before, archive_dir, experiment, readers)
    cutoff = _conversion_cutoff(engine, before, live)
    report = PruneReport(before, cutoff, live, readers.released)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    exposures = and_(_EXPOSURES.c.timestamp < before, not_(_EXPOSURES.c.experiment.in_(live)))
    report.tables.append(_archive_and_delete(engine, _EXPOSURES, exposures, archive_dir, stamp))
    conversions = _CONVERSIONS.c.timestamp < cutoff
    report.tables.append(_archive_and_delete(engine, _CONVERSIONS, conversions, archive_dir, stamp))
    return report


def _prune_one(
    engine: Engine, before: datetime, archive_dir: Path, experiment: str, readers: _Readers
) -> PruneReport:
    with engine.connect() as connection:
        found = connection.execute(
            select(_EXPERIMENTS.c.status).where(_EXPERIMENTS.c.key == experiment)
        ).scalar()
    if found is None:
        raise NotFoundError(f"experiment {experiment!r} does not exist")
    if experiment in readers.live:
        raise ConflictError(
            f"experiment {experiment!r} is {found}: its results are read from its events; "
            "archive it first (POST /v1/experiments/{key}/archive), or, once it is stopped "
            "and its final look is stored, prune its stopped events (--stopped)"
        )
    released = [key for key in readers.released if key == experiment]
    report = PruneReport(before, before, readers.live, released)
    stamp = f"{experiment}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"
    rows = and_(_EXPOSURES.c.timestamp < before, _EXPOSURES.c.experiment == experiment)
    report.tables.append(_archive_and_delete(engine, _EXPOSURES, rows, archive_dir, stamp))
    return report


def _archive_and_delete(
    engine: Engine, table: Table, where: ColumnElement[bool], folder: Path, stamp: str
) -> TableReport:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{table.name}-{stamp}.ndjson.gz"
    ids: list[int] = []
    with gzip.open(path, "wb") as archive:
        for row in _rows(engine, table, where):
            archive.write(orjson.dumps(row, default=str) + b"\n")
            ids.append(row["id"])
    if not ids:
        path.unlink()
        return TableReport(table.name, 0, None)
    for start in range(0, len(ids), DELETE_BATCH):
        chunk = ids[start : start + DELETE_BATCH]
        with engine.begin() as connection:
            connection.execute(delete(table).where(table.c.id.in_(chunk)))
    return TableReport(table.name, len(ids), path)


def _rows(engine: Engine, table: Table, where: ColumnElement[bool]) -> Iterator[dict[str, Any]]:
    """Matching rows in id order, read in pages (keyset on id), as JSON-ready dicts."""
    last = 0
    while True:
        page = select(table).where(where, table.c.id > last).order_by(table.c.id).limit(READ_BATCH)
        with engine.connect() as connection:
            rows = [dict(row) for row in connection.execute(page).mappings()]
        if not rows:
            return
        for row in rows:
            for name, value in row.items():
                if isinstance(value, datetime):
                    value = value if value.tzinfo else value.replace(tzinfo=UTC)
                    row[name] = value.isoformat()
            yield row
        last = rows[-1]["id"]
