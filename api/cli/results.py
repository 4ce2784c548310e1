"""`vekst results KEY`: the verdict, the summary and one table per metric.

An admin-local tool: it reads VEKST_DATABASE_URL directly through the domain function that the
API's results endpoint uses (the latest look, or a new one when it is older than the snapshot
interval), so it needs no server and no key. `render_results` is shared with `vekst demo`,
which prints the results it fetched over HTTP. Figures are written by
`experiments.results.formatting`, the same module as the summary sentence.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from api.cli.local_db import read_database
from experiments.results.formatting import count, metric_value, p_value, percent, probability
from experiments.results.snapshots import results_as_of, serve_results
from experiments.results.wording import interval_text, reason_text
from experiments.settings import load_settings
from stats import Interval

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
) -> None:
    """Print an experiment's results: verdict, summary and a table per metric."""
    max_age = timedelta(minutes=load_settings().snapshot_interval_minutes)
    if as_of is None:
        page = read_database(lambda session: serve_results(session, key, max_age))
    else:
        moment = as_of.replace(tzinfo=as_of.tzinfo or UTC)
        page = read_database(lambda session: results_as_of(session, key, moment))
    if as_json:
        typer.echo(json.dumps(page, indent=2))
        return
    render_results(page, wide_console())


def wide_console() -> Console:
    """A console at least 130 columns wide: the metric tables need about 120 columns, and a
    pipe or a narrow terminal would otherwise split their cells over two lines."""
    return Console(width=max(Console().width, _MIN_WIDTH))


def render_results(page: dict[str, Any], console: Console) -> None:
    """Print a results page (the JSON of GET /v1/experiments/{key}/results) for people."""
    decision = page["decision"]
    verdict = decision["verdict"]
    style = _VERDICT_STYLE.get(verdict, "bold")
    look = f"look {page['look']}, " if page.get("look") is not None else ""
    console.print(
        f"[bold]{page['experiment']}[/] ({page['status']}), {look}as of {page['as_of']}: "
        f"[{style}]{verdict.replace('_', ' ').upper()}[/]"
    )
    outcome = decision.get("outcome")
    if outcome is not None:
        console.print(f"[bold]Decided: {outcome['statement']}[/] (the data at the stop: {verdict})")
    console.print(escape(page["summary"]))
    console.print(f"[dim]{READINGS_LEGEND}{_tuning(page.get('planned_units_per_variant'))}[/]")
    for metric in page["metrics"]:
        console.print(_metric_table(metric, page.get("currency", "NOK")))


def _tuning(planned: int | None) -> str:
    if planned is None:
        return ""
    return (
        f" It is tuned for {count(planned)} planned units per variant; "
        f"`vekst analyze --planned-units {planned}` gives the same intervals from the same counts."
    )


def _metric_table(metric: dict[str, Any], currency: str) -> Table:
    better = "higher is better" if metric["direction"] == "increase" else "lower is better"
    table = Table(
        title=f"{metric['name']} ({metric['metric']}, {metric['role']}, {better})",
        title_justify="left",
        caption_justify="left",
    )
    columns = ("variant", "units", "value", "change", "sequential interval", "seq. p", "chance")
    for column in columns:
        table.add_column(column, justify="left" if column == "variant" else "right", no_wrap=True)
    table.add_column("reading", justify="left")
    comparisons = {comparison["variant"]: comparison for comparison in metric["comparisons"]}
    notes: list[str] = []
    value_format = metric.get("value_format", "number")
    for variant in metric["variants"]:
        value = metric_value(variant["value"], value_format, currency)
        row = [variant["key"], count(variant["n"]), value]
        comparison = comparisons.get(variant["key"])
        if comparison is None:
            row += ["control" if comparisons else "", "", "", "", ""]
        else:
            row += _comparison_cells(comparison)
            notes += _notes(variant["key"], comparison)
        table.add_row(*row)
    if metric.get("denominators"):
        notes.append(f"counted over {metric['denominators']}")
    if metric.get("reason"):
        notes.append(f"no comparison: {metric.get('reason_text') or reason_text(metric['reason'])}")
    if notes:
        table.caption = escape("\n".join(notes))
    return table


def _comparison_cells(comparison: dict[str, Any]) -> list[str]:
    sequential = comparison["sequential"]
    relative = comparison["relative"]["estimate"]
    interval = Interval(None, sequential["relative"]["ci_low"], sequential["relative"]["ci_high"])
    chance = comparison["bayesian"]["chance_to_beat"]
    seq_p = sequential["p_value"]
    reading = comparison.get("guardrail") or comparison.get("outcome", "").replace("_", " ")
    return [
        "no value yet" if relative is None else percent(relative, signed=True),
        _short_interval(interval),
        "none yet" if seq_p is None else p_value(seq_p),
        "none yet" if chance is None else probability(chance),
        reading,
    ]


def _short_interval(interval: Interval) -> str:
    if interval.ci_low is None and interval.ci_high is None:
        return "none yet, see below"
    return interval_text(interval, None)


def _notes(variant: str, comparison: dict[str, Any]) -> list[str]:
    notes = []
    bounds = comparison["sequential"]["relative"]
    words = comparison.get("reason_text")
    if bounds["ci_low"] is None and bounds["ci_high"] is None:
        why = words or interval_text(Interval(None, None, None), comparison.get("reason"))
        notes.append(f"{variant}: no sequential interval yet ({why.removeprefix('none yet: ')})")
    elif comparison.get("reason"):
        notes.append(f"{variant}: {words or reason_text(comparison['reason'])}")
    if comparison.get("note"):
        notes.append(f"{variant}: {comparison['note']}")
    return notes


def register(cli: typer.Typer) -> None:
    cli.command()(results)
