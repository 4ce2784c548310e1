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
in batches, so an event stored while the prune runs is never deleted unarchived. An archive is
a new file (created exclusively, 0600, in a folder created 0700) whose name cannot repeat: the
run's time to the microsecond and a random part. A run removes no file but an empty archive it
created itself. One prune runs at a time across every process and host: it holds the
`events-prune` database lease (`experiments.leases`), renewed between batches.
"""

from __future__ import annotations

import gzip
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from sqlalchemy import ColumnElement, Table, and_, delete, exists, func, not_, select
from sqlalchemy.engine import Engine

from experiments.errors import ConflictError, NotFoundError
from experiments.leases import acquire_lease, new_holder, release_lease, renew_lease
from experiments.models.event import Conversion, Exposure
from experiments.models.experiment import SERVED_STATUSES, Experiment, ExperimentStatus
from experiments.models.snapshot import ResultSnapshot
from experiments.private_files import create_private_file, make_private_folders

DELETE_BATCH = 5_000
READ_BATCH = 10_000
PRUNE_LEASE = "events-prune"
# Renewed after every batch read or deleted: a prune killed on the way holds it this long.
PRUNE_LEASE_DURATION = timedelta(minutes=10)
Clock = Callable[[], datetime]
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


def _utc_now() -> datetime:
    return datetime.now(UTC)


def prune_events(
    engine: Engine,
    before: datetime,
    archive_dir: Path,
    experiment: str | None = None,
    *,
    stopped: bool = False,
    clock: Clock = _utc_now,
) -> PruneReport:
    """Archive, then delete, the events older than `before` that no live experiment needs;
    with `experiment`, only that experiment's exposures (archived, or with `stopped` stopped
    with its final look stored). `stopped` also lets go of every stopped experiment whose
    final look is stored. Raises ConflictError, deleting nothing, while another prune runs.
    Blocking; `clock` tells the time (the archives' names, the lease)."""
    run = _Run(engine, archive_dir, clock)
    if not acquire_lease(engine, PRUNE_LEASE, run.holder, PRUNE_LEASE_DURATION, clock()):
        raise ConflictError(
            "another prune is running; nothing was deleted. Try again once it has finished "
            f"(a prune that was killed holds its lease for {_minutes(PRUNE_LEASE_DURATION)})"
        )
    try:
        readers = _readers(engine, stopped)
        if experiment is not None:
            return _prune_one(run, before, experiment, readers)
        live = readers.live
        cutoff = _conversion_cutoff(engine, before, live)
        report = PruneReport(before, cutoff, live, readers.released)
        exposures = and_(_EXPOSURES.c.timestamp < before, not_(_EXPOSURES.c.experiment.in_(live)))
        report.tables.append(_archive_and_delete(run, _EXPOSURES, exposures, "exposures"))
        conversions = _CONVERSIONS.c.timestamp < cutoff
        report.tables.append(_archive_and_delete(run, _CONVERSIONS, conversions, "conversions"))
        return report
    finally:
        release_lease(engine, PRUNE_LEASE, run.holder)


class _Run:
    """One prune: its lease holder, and the part of its archives' names no other run shares."""

    def __init__(self, engine: Engine, folder: Path, clock: Clock) -> None:
        self.engine = engine
        self.folder = folder
        self.clock = clock
        self.holder = new_holder()
        self.stamp = f"{clock().strftime('%Y%m%dT%H%M%S.%fZ')}-{secrets.token_hex(4)}"

    def keep_lease(self) -> None:
        """Renew the lease; raises ConflictError when it was lost (the run stalled so long
        that it expired and another prune took it)."""
        now = self.clock()
        if not renew_lease(self.engine, PRUNE_LEASE, self.holder, PRUNE_LEASE_DURATION, now):
            raise ConflictError(
                "this prune stalled until its lease expired and another prune took it, so it "
                f"stopped: every event it deleted is in its archives in {self.folder}"
            )

    def new_archive(self, name: str) -> tuple[Path, BinaryIO]:
        make_private_folders(self.folder)
        path = self.folder / f"{name}-{self.stamp}.ndjson.gz"
        try:
            return path, create_private_file(path)
        except FileExistsError as error:
            raise ConflictError(
                f"{path} exists already: it is left as it is, and nothing was deleted for it"
            ) from error


def _minutes(duration: timedelta) -> str:
    return f"{duration.total_seconds() / 60:g} minutes"


def _prune_one(run: _Run, before: datetime, experiment: str, readers: _Readers) -> PruneReport:
    with run.engine.connect() as connection:
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
    rows = and_(_EXPOSURES.c.timestamp < before, _EXPOSURES.c.experiment == experiment)
    report.tables.append(_archive_and_delete(run, _EXPOSURES, rows, f"exposures-{experiment}"))
    return report


def _archive_and_delete(
    run: _Run, table: Table, where: ColumnElement[bool], name: str
) -> TableReport:
    path, file = run.new_archive(name)
    ids: list[int] = []
    with file, gzip.GzipFile(fileobj=file, mode="wb") as archive:
        for row in _rows(run, table, where):
            archive.write(orjson.dumps(row, default=str) + b"\n")
            ids.append(row["id"])
    if not ids:
        path.unlink()  # the empty archive this run created
        return TableReport(table.name, 0, None)
    for start in range(0, len(ids), DELETE_BATCH):
        run.keep_lease()
        chunk = ids[start : start + DELETE_BATCH]
        with run.engine.begin() as connection:
            connection.execute(delete(table).where(table.c.id.in_(chunk)))
    return TableReport(table.name, len(ids), path)


def _rows(run: _Run, table: Table, where: ColumnElement[bool]) -> Iterator[dict[str, Any]]:
    """Matching rows in id order, read in pages (keyset on id), as JSON-ready dicts."""
    last = 0
    while True:
        run.keep_lease()
        page = select(table).where(where, table.c.id > last).order_by(table.c.id).limit(READ_BATCH)
        with run.engine.connect() as connection:
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
