"""`vekst events prune --before DATE [--experiment KEY]`: archive old events, then delete them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from api.cli.local_db import local_engine
from experiments.results.words.formatting import plural
from experiments.retention import prune_events


def prune(
    before: Annotated[
        datetime,
        typer.Option(
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"],
            help="Remove events older than this (UTC), e.g. 2026-01-01.",
        ),
    ],
    experiment: Annotated[
        str | None,
        typer.Option(
            help="Only this experiment's exposures (it must be archived, or with --stopped "
            "stopped with its final look stored)."
        ),
    ] = None,
    stopped: Annotated[
        bool,
        typer.Option(
            "--stopped",
            help="Also remove the events of stopped experiments whose final look is stored "
            "(their results are then served from that look).",
        ),
    ] = False,
    archive_dir: Annotated[
        Path,
        typer.Option(
            help="Where the compressed NDJSON archives are written first (each a new 0600 "
            "file; a missing folder is created 0700)."
        ),
    ] = Path("data/archive"),
) -> None:
    """Archive events to gzip NDJSON, then delete them; running and stopped experiments keep
    every event their results are computed from (stopped ones with a final look, unless
    --stopped). One prune runs at a time: another one meanwhile exits 1, deleting nothing."""
    moment = before.replace(tzinfo=UTC)
    if moment > datetime.now(UTC):
        raise typer.BadParameter("must not be in the future", param_hint="--before")
    with local_engine() as engine:
        report = prune_events(engine, moment, archive_dir, experiment, stopped=stopped)
    for table in report.tables:
        where = f" (archived to {table.archive})" if table.archive else ""
        typer.echo(f"{table.table}: removed {plural(table.removed, 'event')}{where}")
    if report.released:
        typer.echo(
            f"stopped, final look stored, events released: {', '.join(report.released)} "
            "(results served from the final look)"
        )
    if report.kept_for:
        typer.echo(
            f"kept every event that {', '.join(report.kept_for)} still read (running or "
            f"stopped); conversions kept from {report.conversions_before.isoformat()}"
        )
    typer.echo(f"removed {plural(report.removed, 'event')} in all")


def register(events_cli: typer.Typer) -> None:
    events_cli.command()(prune)
