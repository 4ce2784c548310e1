"""`vekst analyze` and `vekst sample-size`: the statistics engine at the terminal."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

import stats

FIELDS = {kind.value: fields for kind, fields in stats.STATISTIC_FIELDS.items()}


def parse_variant(kind: str, text: str) -> dict[str, Any]:
    """'control=10000/250' -> {"key": "control", "n": 10000, "conversions": 250}."""
    key, separator, numbers = text.partition("=")
    fields = FIELDS[kind]
    values = numbers.split("/")
    if not separator or not key or len(values) != len(fields):
        raise typer.BadParameter(f"'{text}' must look like NAME={'/'.join(fields)} for kind {kind}")
    try:
        parsed = [float(value) for value in values]
    except ValueError:
        raise typer.BadParameter(f"'{text}': {'/'.join(fields)} must be numbers") from None
    variant: dict[str, Any] = {"key": key}
    for field, value in zip(fields, parsed, strict=True):
        variant[field] = (
            int(value) if field in ("n", "conversions") and value.is_integer() else value
        )
    return variant


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1%}"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _p_values(raw: float | None, adjusted: float | None) -> str:
    if raw is None or adjusted is None or abs(raw - adjusted) < 1e-12:
        return _number(raw)
    return f"{raw:.3g} ({adjusted:.3g})"


def print_analysis(result: dict[str, Any], console: Console) -> None:
    """A readable table of an analysis result (the JSON form of `stats.analyze`)."""
    level = 1 - result["alpha"]
    variants = Table(title=f"{result['kind']} metric")
    for column in ("variant", "units", "mean"):
        variants.add_column(column, justify="left" if column == "variant" else "right")
    for variant in result["variants"]:
        variants.add_row(variant["key"], f"{variant['n']:,}", _number(variant["mean"]))
    console.print(variants)
    table = Table(title=f"each variant vs {result['variants'][0]['key']}")
    columns = ("variant", f"uplift [{level:.0%} CI]", "p (adjusted)", "sig.", "seq. p", "P(beat)")
    for column in columns:
        table.add_column(column, justify="left" if column == "variant" else "right", no_wrap=True)
    for comparison in result["comparisons"]:
        relative = comparison["relative"]
        table.add_row(
            comparison["variant"],
            f"{_percent(relative['estimate'])} "
            f"[{_percent(relative['ci_low'])}, {_percent(relative['ci_high'])}]",
            _p_values(comparison["p_value"], comparison["p_value_adjusted"]),
            "yes" if comparison["significant"] else "no",
            _number(comparison["sequential"]["p_value"]),
            _percent(comparison["bayesian"]["chance_to_beat"]).lstrip("+"),
        )
    console.print(table)
    for comparison in result["comparisons"]:
        sequential = comparison["sequential"]["relative"]
        console.print(
            f"{comparison['variant']}: peeking-safe (sequential) {level:.0%} interval "
            f"{_percent(sequential['ci_low'])} to {_percent(sequential['ci_high'])}"
        )
    srm = result["srm"]
    if srm["mismatch"]:
        console.print(
            f"[bold red]Sample ratio mismatch[/] (p = {srm['p_value']:.2g}): "
            "check how units are assigned before trusting these numbers."
        )
    for comparison in result["comparisons"]:
        if comparison.get("reason"):
            console.print(f"{comparison['variant']}: {comparison['reason']}")


def analyze(
    kind: Annotated[str, typer.Argument(help="proportion, mean or ratio.")],
    variants: Annotated[
        list[str],
        typer.Argument(
            help="NAME=n/conversions (proportion), NAME=n/sum/sum_squares (mean), "
            "NAME=n/num_sum/num_sum_sq/den_sum/den_sum_sq/cross_sum (ratio); control first."
        ),
    ],
    alpha: Annotated[float, typer.Option(help="Significance level.")] = 0.05,
    alternative: Annotated[str, typer.Option(help="two-sided, greater or less.")] = "two-sided",
    correction: Annotated[str, typer.Option(help="holm, bh or none.")] = "holm",
    planned_units: Annotated[
        int | None, typer.Option(help="Planned units per variant (tunes the sequential test).")
    ] = None,
    minimum_conversions: Annotated[
        int | None,
        typer.Option(help="Least conversions in control and variant together before a reading."),
    ] = None,
    minimum_units: Annotated[
        int | None,
        typer.Option(help="Least units with a value (mean) or denominator (ratio) per variant."),
    ] = None,
) -> None:
    """Compare variants from counts: `vekst analyze proportion a=10000/250 b=10000/300`."""
    if kind not in FIELDS:
        raise typer.BadParameter(f"kind must be one of {', '.join(FIELDS)}", param_hint="KIND")
    parsed = [parse_variant(kind, text) for text in variants]
    try:
        result = stats.analyze(
            kind,
            parsed,
            alpha=alpha,
            alternative=alternative,
            correction=correction,
            planned_units_per_variant=planned_units,
            minimums=_minimums(minimum_conversions, minimum_units),
        )
    except stats.StatsInputError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    # At least 100 columns: the comparison table is unreadable when squeezed into 80.
    print_analysis(result.to_dict(), Console(width=max(Console().width, 100)))


def _minimums(conversions: int | None, units: int | None) -> dict[str, int] | None:
    given = {"conversions": conversions, "units": units}
    chosen = {name: value for name, value in given.items() if value is not None}
    return chosen or None


def sample_size(
    mde: Annotated[float, typer.Option(help="Relative minimum detectable effect, e.g. 0.1.")],
    baseline: Annotated[float | None, typer.Option(help="Baseline conversion rate.")] = None,
    baseline_mean: Annotated[float | None, typer.Option(help="Baseline mean.")] = None,
    baseline_sd: Annotated[float | None, typer.Option(help="Baseline standard deviation.")] = None,
    alpha: Annotated[float, typer.Option()] = 0.05,
    power: Annotated[float, typer.Option()] = 0.8,
    variants: Annotated[int, typer.Option(help="Number of variants, control included.")] = 2,
    daily_units: Annotated[float | None, typer.Option(help="Units entering per day.")] = None,
    test: Annotated[
        str,
        typer.Option(help="sequential (the test that decides, default) or fixed (one look)."),
    ] = "sequential",
) -> None:
    """Units per variant needed, e.g. `vekst sample-size --baseline 0.025 --mde 0.1`."""
    try:
        result = stats.sample_size(
            mde_relative=mde,
            baseline_rate=baseline,
            baseline_mean=baseline_mean,
            baseline_sd=baseline_sd,
            alpha=alpha,
            power=power,
            variants=variants,
            daily_units=daily_units,
            test=test,
        ).to_dict()
    except stats.StatsInputError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"units per variant: {result['units_per_variant']:,} ({result['test']} test)")
    typer.echo(f"total units:       {result['total_units']:,}")
    if result.get("days") is not None:
        typer.echo(f"days to run:       {result['days']}")


def register(cli: typer.Typer) -> None:
    cli.command()(analyze)
    cli.command("sample-size")(sample_size)
