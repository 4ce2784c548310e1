"""`vekst events prune`: archives first, never removes what a running or stopped experiment's
results are computed from (a stopped one's only when asked and its final look is stored), and
reports what it removed."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from api.cli import build_cli
from experiments import definitions, lifecycle
from experiments.db import make_engine, session_scope
from experiments.errors import ConflictError
from experiments.events import ConversionEvent, Event, ExposureEvent, store_events
from experiments.leases import acquire_lease, release_lease
from experiments.models.event import Conversion, Exposure
from experiments.models.experiment import ExperimentCreate
from experiments.results.snapshots import serve_results, take_snapshot
from experiments.retention import PRUNE_LEASE, PRUNE_LEASE_DURATION, prune_events
from tests.api.helpers import experiment_body
from tests.experiments.conftest import mode_of

NOW = datetime.now(UTC).replace(microsecond=0)
DAY = timedelta(days=1)


def _days_ago(days: int) -> datetime:
    return NOW - days * DAY


def _prepare(url: str) -> None:
    """`live` runs since 10 days ago; `old` ran 60-30 days ago and is archived; conversions
    from 50 days ago to yesterday."""
    engine = make_engine(url)
    with session_scope(engine) as session:
        for key in ("live", "old"):
            definitions.create_experiment(
                session, ExperimentCreate.model_validate(experiment_body(key))
            )
            lifecycle.start_experiment(session, key)
        lifecycle.stop_experiment(session, "old")
        lifecycle.archive_experiment(session, "old")
    exposures = [
        ExposureEvent(f"x-old-{d}", f"o{d}", _days_ago(d), "old", "one-page") for d in (60, 45, 30)
    ] + [ExposureEvent(f"x-live-{d}", f"l{d}", _days_ago(d), "live", "one-page") for d in (10, 2)]
    conversions = [
        ConversionEvent(
            f"c-{d}",
            f"l{d}",
            _days_ago(d),
            "purchase",
            100.0,
            source="server" if d == 50 else "sdk",
        )
        for d in (50, 20, 10, 1)
    ]
    events: list[Event] = [*exposures, *conversions]
    store_events(engine, [(event, NOW) for event in events])
    engine.dispose()


def _ids(url: str, model: type[Exposure] | type[Conversion]) -> set[str]:
    engine = make_engine(url)
    with engine.connect() as connection:
        found = set(connection.execute(select(model.event_id)).scalars())  # type: ignore[call-overload]
    engine.dispose()
    return found


def _archived(path: Path | None) -> list[dict[str, object]]:
    assert path is not None
    with gzip.open(path, "rt") as archive:
        return [json.loads(line) for line in archive]


def _prune_today(url: str, archive: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The arguments of `vekst events prune` on `url` for everything before today."""
    monkeypatch.setenv("VEKST_DATABASE_URL", url)
    before = _days_ago(0).date().isoformat()
    return ["events", "prune", "--before", before, "--archive-dir", str(archive)]


def test_prune_keeps_what_live_experiments_read(database_url: str, tmp_path: Path) -> None:
    _prepare(database_url)
    engine = make_engine(database_url)
    try:
        report = prune_events(engine, _days_ago(0), tmp_path)
    finally:
        engine.dispose()
    # Every exposure of the running experiment stays; conversions from its first exposure on.
    assert _ids(database_url, Exposure) == {"x-live-10", "x-live-2"}
    assert _ids(database_url, Conversion) == {"c-10", "c-1"}
    assert report.kept_for == ["live"]
    assert report.conversions_before == _days_ago(10)
    exposures, conversions = report.tables
    assert (exposures.removed, conversions.removed, report.removed) == (3, 2, 5)
    archived = _archived(exposures.archive)
    assert [row["event_id"] for row in archived] == ["x-old-60", "x-old-45", "x-old-30"]
    assert archived[0]["experiment"] == "old" and archived[0]["unit_id"] == "o60"
    assert datetime.fromisoformat(str(archived[0]["timestamp"])) == _days_ago(60)
    assert {row["event_id"] for row in _archived(conversions.archive)} == {"c-50", "c-20"}
    assert {row["value"] for row in _archived(conversions.archive)} == {100.0}
    # Archives keep the kind of key that sent each event.
    assert archived[0]["source"] == "sdk"
    sources = {row["event_id"]: row["source"] for row in _archived(conversions.archive)}
    assert sources == {"c-50": "server", "c-20": "sdk"}


def test_prune_before_a_date_and_per_experiment(database_url: str, tmp_path: Path) -> None:
    _prepare(database_url)
    tmp_path = tmp_path / "archive"
    engine = make_engine(database_url)
    try:
        report = prune_events(engine, _days_ago(40), tmp_path, experiment="old")
        assert [table.removed for table in report.tables] == [2]
        assert _ids(database_url, Exposure) == {"x-old-30", "x-live-10", "x-live-2"}
        assert len(_ids(database_url, Conversion)) == 4  # not touched per experiment
        with pytest.raises(ConflictError, match="archive it first"):
            prune_events(engine, _days_ago(0), tmp_path, experiment="live")
        nothing = prune_events(engine, _days_ago(100), tmp_path)
        assert nothing.removed == 0 and all(t.archive is None for t in nothing.tables)
        with engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(Exposure)).scalar() == 3
    finally:
        engine.dispose()
    assert len(list(tmp_path.iterdir())) == 1  # no empty archives left behind


def test_the_command_reports_what_it_removed(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _prepare(sqlite_url)
    arguments = _prune_today(sqlite_url, tmp_path / "archive", monkeypatch)
    result = CliRunner().invoke(build_cli(), arguments)
    assert result.exit_code == 0, result.output
    assert "exposures: removed 3 events (archived to " in result.output
    assert "kept every event that live still read" in result.output
    assert "removed 5 events in all" in result.output
    running = CliRunner().invoke(
        build_cli(), [*arguments, "--experiment", "live"], catch_exceptions=False
    )
    assert running.exit_code == 1 and "archive it first" in running.output
    future = CliRunner().invoke(build_cli(), ["events", "prune", "--before", "2999-01-01"])
    assert future.exit_code == 2 and "must not be in the future" in future.output


def _prepare_stopped(url: str) -> None:
    """`live` runs; `done` stopped with its final look stored; `unlooked` stopped without one."""
    engine = make_engine(url)
    with session_scope(engine) as session:
        for key in ("live", "done", "unlooked"):
            definitions.create_experiment(
                session, ExperimentCreate.model_validate(experiment_body(key))
            )
            lifecycle.start_experiment(session, key)
    exposures = [
        ExposureEvent("x-done-40", "d40", _days_ago(40), "done", "one-page"),
        ExposureEvent("x-done-20", "d20", _days_ago(20), "done", "multi-step"),
        ExposureEvent("x-unlooked-25", "u25", _days_ago(25), "unlooked", "one-page"),
        ExposureEvent("x-live-10", "l10", _days_ago(10), "live", "one-page"),
    ]
    conversions = [
        ConversionEvent(f"c-{d}", f"d{d}", _days_ago(d), "purchase", 10.0) for d in (50, 30, 1)
    ]
    events: list[Event] = [*exposures, *conversions]
    store_events(engine, [(event, NOW) for event in events])
    with session_scope(engine) as session:
        lifecycle.stop_experiment(session, "done")
        # the final look, as the API's stop takes it
        take_snapshot(session, "done", on_new_look=None)
        lifecycle.stop_experiment(session, "unlooked")
    engine.dispose()


def _results(url: str, key: str) -> dict[str, object]:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            return serve_results(session, key, timedelta(minutes=60), on_new_look=None).as_json()
    finally:
        engine.dispose()


def test_stopped_experiments_with_a_final_look_can_be_released(
    database_url: str, tmp_path: Path
) -> None:
    _prepare_stopped(database_url)
    final = _results(database_url, "done")
    engine = make_engine(database_url)
    try:
        kept = prune_events(engine, _days_ago(0), tmp_path)
        # By default a stopped experiment keeps its events, final look or not.
        assert kept.kept_for == ["done", "live", "unlooked"] and kept.released == []
        assert kept.conversions_before == _days_ago(40)
        assert [table.removed for table in kept.tables] == [0, 1]  # c-50
        with pytest.raises(ConflictError, match="final look is stored"):
            prune_events(engine, _days_ago(0), tmp_path, experiment="done")
        with pytest.raises(ConflictError, match="archive it first"):
            prune_events(engine, _days_ago(0), tmp_path, experiment="unlooked", stopped=True)
        released = prune_events(engine, _days_ago(0), tmp_path, stopped=True)
    finally:
        engine.dispose()
    assert released.released == ["done"] and released.kept_for == ["live", "unlooked"]
    # Conversions stay from the first exposure of an experiment still read from events.
    assert released.conversions_before == _days_ago(25)
    exposures, conversions = released.tables
    assert [row["event_id"] for row in _archived(exposures.archive)] == ["x-done-40", "x-done-20"]
    assert [row["event_id"] for row in _archived(conversions.archive)] == ["c-30"]
    assert _ids(database_url, Exposure) == {"x-unlooked-25", "x-live-10"}
    assert _ids(database_url, Conversion) == {"c-1"}
    # The stopped experiment's results are still served, from its final look.
    assert _results(database_url, "done") == final


def test_one_stopped_experiment_with_its_final_look_is_pruned_on_its_own(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _prepare_stopped(sqlite_url)
    arguments = _prune_today(sqlite_url, tmp_path, monkeypatch)
    refused = CliRunner().invoke(build_cli(), [*arguments, "--experiment", "done"])
    assert refused.exit_code == 1 and "--stopped" in refused.output
    pruned = CliRunner().invoke(build_cli(), [*arguments, "--experiment", "done", "--stopped"])
    assert pruned.exit_code == 0, pruned.output
    assert "exposures: removed 2 events (archived to " in pruned.output
    assert "stopped, final look stored, events released: done" in pruned.output
    assert _ids(sqlite_url, Exposure) == {"x-unlooked-25", "x-live-10"}
    assert len(_ids(sqlite_url, Conversion)) == 3  # not touched per experiment


def _everything(url: str) -> set[str]:
    return _ids(url, Exposure) | _ids(url, Conversion)


def _all_archived(folder: Path) -> set[str]:
    return {str(row["event_id"]) for path in folder.iterdir() for row in _archived(path)}


def test_two_prunes_in_the_same_second_lose_no_event(database_url: str, tmp_path: Path) -> None:
    _prepare(database_url)
    folder = tmp_path / "archive"
    engine = make_engine(database_url)
    frozen = NOW.replace(microsecond=123456)  # both runs see the very same moment
    stored = _everything(database_url)
    try:
        first = prune_events(engine, _days_ago(0), folder, clock=lambda: frozen)
        late: list[Event] = [
            ExposureEvent("x-old-50", "o50", _days_ago(50), "old", "one-page"),
            ConversionEvent("c-40", "l40", _days_ago(40), "purchase", 5.0),
        ]
        store_events(engine, [(event, NOW) for event in late])
        second = prune_events(engine, _days_ago(0), folder, clock=lambda: frozen)
        third = prune_events(engine, _days_ago(0), folder, clock=lambda: frozen)  # finds nothing
    finally:
        engine.dispose()
    assert first.removed == 5 and second.removed == 2 and third.removed == 0
    archives = [t.archive for r in (first, second) for t in r.tables if t.archive is not None]
    assert len(set(archives)) == 4 and all(path.is_file() for path in archives)
    assert sorted(folder.iterdir()) == sorted(archives)  # the empty ones went, no other
    deleted = (stored | {"x-old-50", "c-40"}) - _everything(database_url)
    assert len(deleted) == 7 and deleted == _all_archived(folder)


def test_a_prune_never_touches_a_file_it_did_not_create(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _prepare(sqlite_url)
    frozen = NOW.replace(microsecond=1)
    monkeypatch.setattr("experiments.retention.secrets.token_hex", lambda _n: "0badc0de")
    stamp = frozen.strftime("%Y%m%dT%H%M%S.%fZ")
    someone_elses = tmp_path / f"exposures-{stamp}-0badc0de.ndjson.gz"
    someone_elses.write_bytes(b"not Vekst's")
    engine = make_engine(sqlite_url)
    try:
        with pytest.raises(ConflictError, match="exists already: it is left as it is"):
            prune_events(engine, _days_ago(0), tmp_path, clock=lambda: frozen)
    finally:
        engine.dispose()
    assert someone_elses.read_bytes() == b"not Vekst's"
    assert len(_everything(sqlite_url)) == 9


def test_a_second_prune_is_refused_while_one_runs(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _prepare(database_url)
    arguments = _prune_today(database_url, tmp_path / "archive", monkeypatch)
    engine = make_engine(database_url)
    try:
        # Another host's prune is under way: it holds the lease (taken now, not at NOW, the
        # module's import: a long run would find that lease already expired).
        taken = datetime.now(UTC)
        assert acquire_lease(engine, PRUNE_LEASE, "other-host", PRUNE_LEASE_DURATION, taken)
        refused = CliRunner().invoke(build_cli(), arguments)
        assert refused.exit_code == 1
        assert "another prune is running; nothing was deleted" in refused.output
        assert len(_everything(database_url)) == 9 and not (tmp_path / "archive").exists()
        with pytest.raises(ConflictError, match="another prune is running"):
            prune_events(engine, _days_ago(0), tmp_path, experiment="old")
        release_lease(engine, PRUNE_LEASE, "other-host")
        done = CliRunner().invoke(build_cli(), arguments)
        assert done.exit_code == 0 and "removed 5 events in all" in done.output
        # A prune that was killed holds the lease until it expires, then the next one runs.
        killed = datetime.now(UTC) - PRUNE_LEASE_DURATION
        assert acquire_lease(engine, PRUNE_LEASE, "killed-host", PRUNE_LEASE_DURATION, killed)
        assert prune_events(engine, _days_ago(0), tmp_path).removed == 0
    finally:
        engine.dispose()


@pytest.mark.usefixtures("umask_022")
def test_archives_and_their_folders_are_private(sqlite_url: str, tmp_path: Path) -> None:
    _prepare(sqlite_url)
    folder = tmp_path / "backups" / "vekst"
    given = mode_of(tmp_path)
    engine = make_engine(sqlite_url)
    try:
        report = prune_events(engine, _days_ago(0), folder)
    finally:
        engine.dispose()
    assert mode_of(tmp_path) == given  # a folder that was there is not Vekst's to change
    assert mode_of(tmp_path / "backups") == 0o700 and mode_of(folder) == 0o700
    archives = [table.archive for table in report.tables]
    assert len(archives) == 2 and all(p is not None and mode_of(p) == 0o600 for p in archives)
