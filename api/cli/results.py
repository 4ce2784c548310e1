"""`vekst results KEY`: the verdict, the summary and one table per metric.

An admin-local tool: it reads VEKST_DATABASE_URL directly through the domain function that the
API's results endpoint uses (the latest look, or a new one when it is older than the snapshot
interval), so it needs no server and no key. `render_results` is shared with
`vekst demo`, which prints the results it fetched over HTTP.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from experiments.db import make_engine, session_scope
from experiments.errors import VekstError
from experiments.results.snapshots import results_as_of, serve_results
from experiments.settings import load_settings

_MIN_WIDTH = 110
_VERDICT_STYLE = {
    "ship": "bold green",
    "stop": "bold red",
    "keep_running": "bold yellow",
    "inconclusive": "bold",
}


def results(
    key: Annotated[str, typer.Argument(help="The experiment's key.")],
    as_of: Annotated[
        datetime | None,
        typer.Option(help="Count events up to this UTC time (default: now or the stop)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON instead.")] = False,
) -> None:
    """Print an experiment's results: verdict, summary and a table per metric."""
    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            if as_of is None:
                max_age = timedelta(minutes=settings.snapshot_interval_minutes)
                page = serve_results(session, key, max_age)
            else:
                page = results_as_of(session, key, as_of.replace(tzinfo=as_of.tzinfo or UTC))
    except VekstError as error:
        typer.echo(error.detail, err=True)
        raise typer.Exit(1) from error
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(page, indent=2))
        return
    render_results(page, wide_console())


def wide_console() -> Console:
    """A console at least 110 columns wide: the metric tables need about 100 columns, and a
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
    console.print(page["summary"])
    for metric in page["metrics"]:
        console.print(_metric_table(metric))


def _metric_table(metric: dict[str, Any]) -> Table:
    better = "higher is better" if metric["direction"] == "increase" else "lower is better"
    table = Table(
        title=f"{metric['name']} ({metric['metric']}, {metric['role']}, {better})",
        title_justify="left",
    )
    for column in ("variant", "units", "value", "change", "interval (sequential)", "p", "P(beat)"):
        table.add_column(column, justify="left" if column == "variant" else "right", no_wrap=True)
    comparisons = {comparison["variant"]: comparison for comparison in metric["comparisons"]}
    for variant in metric["variants"]:
        row = [variant["key"], f"{variant['n']:,}", _value(metric["kind"], variant["value"])]
        comparison = comparisons.get(variant["key"])
        if comparison is None:
            row += ["baseline" if comparisons else "", "", "", ""]
        else:
            sequential = comparison["sequential"]
            row += [
                _percent(comparison["relative"]["estimate"], signed=True),
                _interval(sequential["relative"]),
                _p_value(sequential["p_value"], sequential["significant"]),
                _percent(comparison["bayesian"]["chance_to_beat"]),
            ]
        table.add_row(*row)
    if metric.get("reason"):
        table.caption = f"{metric['reason']}: {metric.get('detail') or ''}".rstrip(": ")
    return table


def _value(kind: str, value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2%}" if kind == "conversion" else f"{value:,.2f}"


def _percent(share: float | None, *, signed: bool = False) -> str:
    if share is None:
        return "-"
    return f"{share:+.1%}" if signed else f"{share:.1%}"


def _interval(interval: dict[str, float | None]) -> str:
    low, high = interval["ci_low"], interval["ci_high"]
    return f"{_percent(low, signed=True)} to {_percent(high, signed=True)}"


def _p_value(p_value: float | None, significant: bool) -> str:
    if p_value is None:
        return "-"
    return f"{p_value:.3g}" + (" *" if significant else "")


def register(cli: typer.Typer) -> None:
    cli.command()(results)
