"""`vekst holdouts`: list, show, create, stop a holdout, and read its results.

An admin-local tool like `vekst results`: it works on VEKST_DATABASE_URL through the domain
functions the API's /v1/holdouts routes call, so it needs no server and no key.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from api.cli.local_db import local_session
from api.cli.results import wide_console
from experiments import holdouts, operations
from experiments.models.holdout import ALL_NEW, DEFAULT_METRICS, HoldoutCreate, HoldoutPublic
from experiments.results.holdout_looks import serve_holdout_results
from experiments.results.page import VariantValue
from experiments.results.words.formatting import count, percent
from experiments.settings import load_settings

holdouts_cli = typer.Typer(
    help="Holdouts: a share of units kept on the control of the experiments they cover.",
    no_args_is_help=True,
)


@holdouts_cli.command("list")
def list_holdouts() -> None:
    """Every holdout, newest first (GET /v1/holdouts)."""
    now = datetime.now(UTC)
    with local_session() as session:
        items = [holdouts.to_public(session, h, now) for h in holdouts.list_holdouts(session)]
    table = Table(title=f"{len(items)} holdouts", title_justify="left")
    for column in ("key", "status", "share", "covers", "ends"):
        table.add_column(column)
    for item in items:
        covers = "all new" if item.experiments == ALL_NEW else ", ".join(item.experiments)
        ends = f"{item.ends_at:%Y-%m-%d}"
        table.add_row(item.key, item.status.value, percent(item.share), covers, ends)
    wide_console().print(table)


@holdouts_cli.command("show")
def show(key: Annotated[str, typer.Argument(help="The holdout's key.")]) -> None:
    """One holdout as JSON (GET /v1/holdouts/KEY)."""
    with local_session() as session:
        shown = holdouts.to_public(session, holdouts.get_holdout(session, key), datetime.now(UTC))
    typer.echo(shown.model_dump_json(indent=2))


@holdouts_cli.command("create")
def create(
    key: Annotated[str, typer.Argument(help="A new key (no experiment may bear it).")],
    name: Annotated[str, typer.Option(help="What the holdout is called.")],
    ends_at: Annotated[
        datetime, typer.Option("--ends-at", help="When it ends (UTC unless an offset is given).")
    ],
    share: Annotated[float, typer.Option(help="The share held out, 0.01 to 0.10.")] = 0.05,
    experiments: Annotated[
        str,
        typer.Option(help="`all_new`, or the keys of the experiments it covers, comma-separated."),
    ] = ALL_NEW,
    metrics: Annotated[
        str, typer.Option(help="Metric keys, comma-separated; the first is the one summarised.")
    ] = ",".join(DEFAULT_METRICS),
    unit_type: Annotated[str, typer.Option("--unit-type", help="The unit it counts.")] = "visitor",
) -> None:
    """Create and start a holdout (POST /v1/holdouts) and say what its share can detect."""
    try:
        data = HoldoutCreate.model_validate(
            {
                "key": key,
                "name": name,
                "share": share,
                "experiments": experiments if experiments == ALL_NEW else _listed(experiments),
                "metrics": _listed(metrics),
                "ends_at": ends_at.replace(tzinfo=ends_at.tzinfo or UTC),
                "unit_type": unit_type,
            }
        )
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise typer.BadParameter(f"{field}: {first['msg']}") from error
    with local_session() as session:
        created = operations.create_holdout_with_power(session, data)
    _print(created)


@holdouts_cli.command("stop")
def stop(key: Annotated[str, typer.Argument(help="The holdout's key.")]) -> None:
    """Stop a running holdout: its units return to normal assignment."""
    with local_session() as session:
        stopped = holdouts.stop_holdout(session, key)
        _print(holdouts.to_public(session, stopped, datetime.now(UTC)))


@holdouts_cli.command("results")
def results(
    key: Annotated[str, typer.Argument(help="The holdout's key.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON instead.")] = False,
) -> None:
    """What the shipped winners added: measurement against holdout, since it began."""
    settings = load_settings()
    max_age = timedelta(minutes=settings.snapshot_interval_minutes)
    with local_session(settings) as session:
        page = serve_holdout_results(session, key, max_age)
    if as_json:
        typer.echo(json.dumps(page.as_json(), indent=2))
        return
    console = wide_console()
    console.print(f"[bold]{page.name}[/bold] ({page.holdout}, {page.status})", highlight=False)
    console.print(page.summary, highlight=False)
    console.print(page.power.text, highlight=False)
    table = Table(title_justify="left")
    for column in ("metric", "holdout", "measurement", "change", "interval"):
        table.add_column(column)
    for metric in page.look.metrics:
        values = {v.key: v for v in metric.variants}
        comparison = metric.comparisons[0] if metric.comparisons else None
        relative = None if comparison is None else comparison.sequential.relative
        change = interval = ""
        if relative is not None and relative.estimate is not None:
            change = percent(relative.estimate, signed=True)
        if relative is not None and relative.ci_low is not None and relative.ci_high is not None:
            interval = f"{percent(relative.ci_low, signed=True)} to "
            interval += percent(relative.ci_high, signed=True)
        table.add_row(
            metric.name,
            _value(values.get("holdout")),
            _value(values.get("measurement")),
            change,
            interval,
        )
    console.print(table)


def _value(variant: VariantValue | None) -> str:
    if variant is None:
        return ""
    units = f"{count(variant.n)} units"
    return units if variant.value is None else f"{variant.value:.4g} ({units})"


def _listed(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _print(holdout: HoldoutPublic) -> None:
    covers = "all new experiments" if holdout.experiments == ALL_NEW else holdout.experiments
    typer.echo(f"{holdout.key}: {holdout.status.value}, {percent(holdout.share)} held out")
    typer.echo(f"covers: {covers}; ends {holdout.ends_at:%Y-%m-%d %H:%M} UTC")
    if holdout.power is not None:
        typer.echo(holdout.power.text)
