"""`vekst results KEY`: the verdict, the summary and one table per metric.

An admin-local tool: it reads VEKST_DATABASE_URL directly through the domain function that the
API's results endpoint uses (the latest look, or a new one when it is older than the snapshot
interval), so it needs no server and no key. `render_results` is shared with `vekst demo`,
which prints the results it fetched over HTTP. Figures are written by
`experiments.results.words.formatting`, the same module as the summary sentence.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session

from api.cli.local_db import local_session, require_experiment
from experiments.errors import InvalidInputError
from experiments.models.experiment import Experiment
from experiments.results.bandit_page import BanditPage
from experiments.results.page import MetricPage, ResultsPage, SegmentsPage
from experiments.results.segments import serve_breakdown
from experiments.results.snapshots import results_as_of, serve_results
from experiments.results.words.formatting import count, decimal, percent
from experiments.results.words.headline import headline
from experiments.results.words.segment_words import (
    DIFFER_NOTE,
    NO_LEVELS,
    differ_line,
    level_line,
    segment_note,
)
from experiments.results.words.tables import columns, metric_rows, metric_title
from experiments.results.words.wording import verdict_words
from experiments.settings import load_settings
from experiments.webhooks.store import queue_look_alerts

_MIN_WIDTH = 130
_VERDICT_STYLE = {
    "ship": "bold green",
    "stop": "bold red",
    "keep_running": "bold yellow",
    "inconclusive": "bold",
}
READINGS_LEGEND = (
    "The verdict uses the sequential test (safe to read every day): its interval and p decide. "
    "The chance to beat the control is a Bayesian probability, shown for context."
)


def results(
    key: Annotated[str, typer.Argument(help="The experiment's key.")],
    as_of: Annotated[
        datetime | None,
        typer.Option(help="Count events up to this UTC time (default: now or the stop)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON instead.")] = False,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="Also break the results down by this dimension of the experiment (exploratory: "
            "for new hypotheses, not for the ship decision).",
        ),
    ] = None,
) -> None:
    """Print an experiment's results: verdict, summary and a table per metric."""
    settings = load_settings()
    max_age = timedelta(minutes=settings.snapshot_interval_minutes)
    with local_session(settings) as session:
        experiment = require_experiment(session, key)
        moment = None if as_of is None else as_of.replace(tzinfo=as_of.tzinfo or UTC)
        if moment is not None:
            _require_started(experiment, moment)
        if by is not None:
            page = _breakdown(session, key, by, max_age, moment)
        elif moment is None:
            page = serve_results(session, key, max_age, on_new_look=queue_look_alerts)
        else:
            page = results_as_of(session, key, moment)
    if as_json:
        typer.echo(json.dumps(page.as_json(), indent=2))
        return
    console = wide_console()
    render_results(page, console)
    if page.segments is not None:
        render_segments(page, page.segments, console)


def _breakdown(
    session: Session, key: str, dimension: str, max_age: timedelta, moment: datetime | None
) -> ResultsPage:
    """The page broken down by `dimension`; exit 2 naming the experiment's dimensions when it
    has no such dimension."""
    try:
        return serve_breakdown(
            session, key, dimension, max_age, as_of=moment, on_new_look=queue_look_alerts
        )
    except InvalidInputError as error:
        typer.echo(f"--by {error.rule}", err=True)
        raise typer.Exit(2) from error


def render_segments(page: ResultsPage, segments: SegmentsPage, console: Console) -> None:
    """Print a breakdown: per level its units, its SRM check and a table per metric."""
    console.print(f"\n[bold]Segments by {escape(segments.dimension)}[/]")
    console.print(f"[dim]{escape(segment_note(segments))}[/]")
    if not segments.levels:
        console.print(escape(NO_LEVELS))
    for level in segments.levels:
        console.print(f"\n[bold]{escape(segments.dimension)} = {escape(level.level)}[/]: ", end="")
        console.print(escape(level_line(level, page.unit)))
        for metric in level.metrics:
            console.print(_metric_table(metric, page.currency, page.unit))


def _require_started(experiment: Experiment, moment: datetime) -> None:
    """Exit 1 saying so when the experiment had not started at `moment` (--as-of)."""
    started = experiment.started_at
    if started is not None and moment >= started:
        return
    asked = f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    if started is None:
        message = f"{experiment.key} has not started yet, so it has no results at {asked}."
    else:
        message = (
            f"{experiment.key} had not started at {asked}: it started at "
            f"{started:%Y-%m-%d %H:%M} UTC. Pass a later --as-of, or none for the latest results."
        )
    typer.echo(message, err=True)
    raise typer.Exit(1)


def wide_console() -> Console:
    """A console at least 130 columns wide: the metric tables need about 120 columns, and a
    pipe or a narrow terminal would otherwise split their cells over two lines."""
    return Console(width=max(Console().width, _MIN_WIDTH))


def render_results(page: ResultsPage, console: Console) -> None:
    """Print a results page (GET /v1/experiments/{key}/results) for people."""
    decision = page.decision
    verdict = decision.verdict.value
    style = _VERDICT_STYLE.get(verdict, "bold")
    look = f"look {page.look}, " if page.look is not None else ""
    # Once stopped, what was done leads; the data's verdict at the stop comes second.
    stopped = decision.outcome is not None
    lead = headline(page) if stopped else headline(page).upper()
    console.print(
        f"[bold]{page.experiment}[/] ({page.status}), {look}as of {page.as_of.isoformat()}: "
        f"[{style}]{escape(lead)}[/]"
    )
    if stopped:
        said = verdict_words(verdict, decision.variant)
        console.print(f"At the stop the data said: {escape(said)}")
    console.print(escape(page.summary))
    if page.plan is not None and page.plan.text:
        console.print(escape(page.plan.text))
    console.print(f"[dim]{READINGS_LEGEND}{_tuning(page.planned_units_per_variant)}[/]")
    if page.bandit is not None:
        console.print(_bandit_table(page.bandit))
        console.print(f"[dim]{escape(page.bandit.ab_readings)}[/]")
    for metric in page.metrics:
        console.print(_metric_table(metric, page.currency, page.unit))
    if page.segments_that_differ:
        console.print("\n[bold]Segments that differ[/]")
        console.print(f"[dim]{escape(DIFFER_NOTE)}[/]")
        for cell in page.segments_that_differ:
            console.print(escape(differ_line(cell)))


def _tuning(planned: int | None) -> str:
    if planned is None:
        return ""
    return (
        f" It is tuned for {count(planned)} planned units per variant; "
        f"`vekst analyze --planned-units {planned}` gives the same intervals from the same counts."
    )


def _bandit_table(bandit: BanditPage) -> Table:
    """Each arm's probability of being best and its weight in every update period so far."""
    table = Table(title=f"Bandit arms ({bandit.metric})", title_justify="left")
    for column in ("arm", "units", "mean", "P(best)"):
        table.add_column(column, justify="left" if column == "arm" else "right", no_wrap=True)
    for period in bandit.history:
        table.add_column(f"weight {period.starts_at:%a %d %b %H:%M}", justify="right")
    for arm in bandit.arms:
        chance = "–" if arm.probability_best is None else percent(arm.probability_best)
        mean = "–" if arm.mean is None else decimal(arm.mean, 4)
        weights = [percent(period.weights.get(arm.variant, 0.0)) for period in bandit.history]
        table.add_row(escape(arm.variant), count(arm.units), mean, chance, *weights)
    return table


def _metric_table(metric: MetricPage, currency: str, unit: str) -> Table:
    table = Table(title=metric_title(metric), title_justify="left", caption_justify="left")
    for column in columns(unit):
        table.add_column(column, justify="left" if column == "variant" else "right", no_wrap=True)
    table.add_column("reading", justify="left")
    rows, notes = metric_rows(metric, currency)
    for row in rows:
        table.add_row(*row)
    if notes:
        table.caption = escape("\n".join(notes))
    return table


def register(cli: typer.Typer) -> None:
    cli.command()(results)
