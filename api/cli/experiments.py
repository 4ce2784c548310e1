"""`vekst experiments`: every experiment with its current verdict, units and days running;
`vekst experiments reshuffle KEY` moves a sticky experiment to its next sticky version."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from api.cli.local_db import local_engine, local_session, require_experiment
from api.cli.results import wide_console
from experiments import definitions, lifecycle
from experiments.errors import ConflictError
from experiments.events import count_events
from experiments.models.experiment import ExperimentStatus
from experiments.results.overview import with_results
from experiments.results.words.formatting import count, plural
from experiments.results.words.headline import STOPPED
from experiments.results.words.wording import verdict_phrase

experiments_cli = typer.Typer(
    help="Every experiment with its verdict; `reshuffle KEY` for a sticky one.",
    invoke_without_command=True,
)


@experiments_cli.callback()
def experiments(
    context: typer.Context,
    status: Annotated[
        ExperimentStatus | None, typer.Option(help="Only experiments in this status.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=200, help="At most this many.")] = 50,
) -> None:
    """List experiments with their verdicts (GET /v1/experiments?include=results)."""
    if context.invoked_subcommand is not None:
        return
    with local_session() as session:
        page = definitions.list_experiments(session, limit, 0, status)
        with_results(session, page)
    table = Table(title=f"{page.total} experiments", title_justify="left")
    # What was done leads once stopped ("Shipped one-page on 5 December 2026"); the data's
    # verdict (at the stop) comes second.
    for column in ("key", "status", "state", "verdict", "units", "days"):
        table.add_column(column, justify="right" if column in ("units", "days") else "left")
    for item in page.items:
        overview = item.results
        if overview is None or overview.verdict is None:
            state = "not started"
            if overview is not None and item.status != ExperimentStatus.DRAFT:
                state = overview.headline.lower()  # "no look yet": a list computes none
            table.add_row(item.key, item.status.value, state, "", "", "")
            continue
        running = "" if overview.days_running is None else f"{overview.days_running:.1f}"
        said = verdict_phrase(overview.verdict, overview.variant)
        table.add_row(
            item.key,
            item.status.value,
            overview.headline,
            f"at the stop: {said}" if overview.display_state in STOPPED else said,
            count(overview.units),
            running,
        )
    wide_console().print(table)


events_cli = typer.Typer(
    help="Stored conversions by name, names no metric reads (unused) and events a running "
    "experiment's metric waits for (missing); `prune`.",
    invoke_without_command=True,
)


@events_cli.callback()
def events(context: typer.Context) -> None:
    """Stored conversions by name; names that no metric reads are listed as unused, and the
    events of a running experiment's metrics that have not arrived in 24 hours as missing."""
    if context.invoked_subcommand is not None:
        return
    with local_engine() as engine:
        counts = count_events(engine)
    for row in counts.conversions:
        typer.echo(f"{row['name']}: {plural(row['count'], 'event')}")
    for row in counts.unused:
        typer.echo(
            f"unused: {row['name']} ({plural(row['count'], 'event')}) is read by no metric; "
            "check its spelling or define a metric for it (POST /v1/metrics)"
        )
    for row in counts.missing:
        seen = row["last_seen"]
        when = (
            "none ever arrived" if seen is None else f"the last arrived {seen:%Y-%m-%d %H:%M} UTC"
        )
        typer.echo(
            f"missing: {row['experiment']}'s metric {row['metric']} reads {row['event']}, which "
            f"has not arrived in 24 hours ({when}); check that the shop sends "
            f'track("{row["event"]}")'
        )


@experiments_cli.command()
def reshuffle(key: Annotated[str, typer.Argument(help="The sticky experiment's key.")]) -> None:
    """Move a sticky experiment to its next sticky_version, so every unit is assigned afresh
    (POST /v1/experiments/KEY/reshuffle; recorded on the audit log)."""
    with local_session() as session:
        require_experiment(session, key)
        try:
            experiment = lifecycle.reshuffle_experiment(session, key)
        except ConflictError as error:
            typer.echo(error.detail, err=True)
            raise typer.Exit(1) from error
        version = experiment.sticky_version
    typer.echo(f"{key}: sticky_version is now {version}; every unit is assigned afresh")


def register(cli: typer.Typer) -> None:
    cli.add_typer(experiments_cli, name="experiments")
    cli.add_typer(events_cli, name="events")
