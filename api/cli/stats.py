"""`vekst analyze` and `vekst sample-size`: the statistics engine at the terminal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypedDict, TypeVar

import typer
from rich.console import Console
from rich.table import Table

import stats
from api.cli.numbers import refuse, relative_change, share
from experiments.inputs import MAX_COUNT
from experiments.results.words.formatting import (
    count,
    days,
    decimal,
    p_value,
    percent,
    probability,
)
from experiments.results.words.wording import disagreement, interval_text, reason_text
from stats.sequential import DEFAULT_PLANNED_UNITS_PER_VARIANT

FIELDS = {kind.value: fields for kind, fields in stats.STATISTIC_FIELDS.items()}
# The statistics' input names as the flags of `vekst sample-size` that carry them, so errors
# name what was typed.
FLAGS = {
    "baseline_rate": "--baseline",
    "baseline_mean": "--baseline-mean",
    "baseline_sd": "--baseline-sd",
    "mde_relative": "--mde",
    "daily_units": "--daily-units",
    "planned_units_per_variant": "--planned-units",
    "units_per_variant": "--list-size",
    "alpha": "--alpha",
    "power": "--power",
    "alternative": "--alternative",
    "correction": "--correction",
    "variants": "--variants",
    "minimums.conversions": "--minimum-conversions",
    "minimums.units": "--minimum-units",
    "test": "--test",
}
BETWEEN = "strictly between 0 and 1"
BASELINE = share("--baseline", BETWEEN)
ALPHA = share("--alpha", BETWEEN)
POWER = share("--power", BETWEEN)
TEST_SHARE = share("--test-share", "above 0 and at most 1", include_one=True)
# `vekst analyze` takes the variants as arguments: it has no --variants (nor baseline) flag.
ANALYZE_FLAGS = {
    name: flag
    for name, flag in FLAGS.items()
    if flag in ("--alpha", "--alternative", "--correction", "--planned-units")
    or name.startswith("minimums.")
}
ANALYZE_EXAMPLE = "vekst analyze proportion control=10000/250 buy-now=10000/300"
_YEAR_DAYS = 365
T = TypeVar("T")


def flag_message(
    error: stats.StatsInputError,
    flags: dict[str, str] = FLAGS,
    typed: list[str] | None = None,
) -> str:
    """The error's message with each input name replaced by its flag in `flags`, and each
    variant named as `typed` (the arguments as given, `buy-now=100/200`: its conversions ...)
    or else by its position."""

    def variant(found: re.Match[str]) -> str:
        index = int(found[1])
        if typed is not None and index < len(typed):
            return f"{typed[index]}: its {found[2]}"
        return f"variant {index + 1}'s {found[2]}"

    message = re.sub(r"variants\[(\d+)\]\.(\w+)", variant, str(error))
    for name in sorted(flags, key=len, reverse=True):
        message = re.sub(rf"(?<![\w.\[-]){re.escape(name)}(?![\w\[\].])", flags[name], message)
    return message


def _variant_form(kind: str) -> str:
    optional = "" if kind == "proportion" else "[/nonzero_units]"
    return f"NAME={'/'.join(FIELDS[kind])}{optional}"


@contextmanager
def inputs_named_by_flags(
    flags: dict[str, str] = FLAGS, typed: list[str] | None = None, form: str = ""
) -> Iterator[None]:
    """Print a statistics input error of the block in the command's words (`flag_message`),
    with `form` (how a variant is written) after an error about a variant; exit 2."""
    try:
        yield
    except stats.StatsInputError as error:
        message = flag_message(error, flags, typed)
        if error.field.startswith("variants["):
            message += form
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(2) from error


def parse_variant(kind: str, text: str) -> dict[str, Any]:
    """'control=10000/250' -> {"key": "control", "n": 10000, "conversions": 250}; a mean or
    ratio variant may end in its count of units with a value or denominator (nonzero_units)."""
    key, separator, numbers = text.partition("=")
    fields = FIELDS[kind]
    values = numbers.split("/")
    if kind != "proportion" and len(values) == len(fields) + 1:
        fields = (*fields, "nonzero_units")
    if not separator or not key or len(values) != len(fields):
        raise typer.BadParameter(f"'{text}' must look like {_variant_form(kind)} for kind {kind}")
    try:
        parsed = [float(value) for value in values]
    except ValueError:
        raise typer.BadParameter(f"'{text}': {'/'.join(fields)} must be numbers") from None
    variant: dict[str, Any] = {"key": key}
    for field, value in zip(fields, parsed, strict=True):
        variant[field] = int(value) if field in _COUNTS and value.is_integer() else value
    return variant


_COUNTS = ("n", "conversions", "nonzero_units")


def _p_values(raw: float | None, adjusted: float | None) -> str:
    if raw is None or adjusted is None:
        return "none"
    if abs(raw - adjusted) < 1e-12:
        return p_value(raw)
    return f"{p_value(raw)} ({p_value(adjusted)})"


def _interval(interval: stats.Interval) -> str:
    if interval.ci_low is None and interval.ci_high is None:
        return "none, see below"
    return interval_text(interval, None)


def _change(interval: stats.Interval) -> str:
    if interval.estimate is None:
        return "none"
    return f"{percent(interval.estimate, signed=True)} ({_interval(interval)})"


def _spread(variant: stats.VariantSummary) -> str:
    units = variant.effective_units
    figure = "none" if units is None else decimal(units, 1)
    given = variant.effective_units_rule == "nonzero_units"
    return f"{figure} ({'given' if given else 'Kish estimate'})"


def _print_variants(result: stats.AnalysisResult, console: Console) -> None:
    """Each variant's units and mean; for a mean or ratio, the units its spread was read from."""
    variants = Table(title=f"{result.kind.value} metric")
    spread = result.kind is not stats.StatisticsKind.PROPORTION
    columns = ("variant", "units", "mean") + (("units for the spread",) if spread else ())
    for column in columns:
        variants.add_column(column, justify="left" if column == "variant" else "right")
    for variant in result.variants:
        mean = "none" if variant.mean is None else decimal(variant.mean, 4)
        row = [variant.key, count(variant.n), mean]
        if spread:
            row.append(_spread(variant))
        variants.add_row(*row)
    console.print(variants)
    if any(variant.effective_units_rule == "kish" for variant in result.variants):
        console.print(
            "Units for the spread estimated from the sums (Kish's (sum x)^2 / sum x^2, at most "
            "the units with a value or an order): end each variant with its count of those "
            "units (NAME=.../nonzero_units) for the exact figure."
        )


def print_analysis(result: stats.AnalysisResult, console: Console) -> None:
    """A readable table of an analysis result, figures written as on the results page."""
    level = percent(1 - result.alpha)
    _print_variants(result, console)
    table = Table(title=f"each variant vs {result.variants[0].key} ({level} intervals)")
    columns = (
        "variant",
        "change (fixed CI)",
        "fixed p (adj.)",
        "sequential CI",
        "seq. p",
        "chance",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "variant" else "right", no_wrap=True)
    for comparison in result.comparisons:
        sequential = comparison.sequential
        chance = comparison.bayesian.chance_to_beat
        table.add_row(
            comparison.variant,
            _change(comparison.relative),
            _p_values(comparison.p_value, comparison.p_value_adjusted),
            _interval(sequential.relative),
            "none" if sequential.p_value is None else p_value(sequential.p_value),
            "none" if chance is None else probability(chance),
        )
    console.print(table)
    console.print(
        "The fixed-horizon reading is valid once, at the planned size; the sequential "
        "(peeking-safe) reading is the one a results page decides with; the chance to beat "
        "assumes higher is better (use --alternative less when lower is)."
    )
    if result.srm.mismatch:
        console.print(
            f"[bold red]Sample ratio mismatch[/] (p = {p_value(result.srm.p_value)}): "
            "check how units are assigned before trusting these numbers."
        )
    for comparison in result.comparisons:
        if comparison.reason is not None:
            console.print(f"{comparison.variant}: {reason_text(comparison.reason)}")
        elif comparison.sequential.relative.ci_low is None:
            console.print(f"{comparison.variant}: too little data to bound the sequential CI yet")
        note = disagreement(comparison)
        if note is not None:
            console.print(f"{comparison.variant}: {note}")


def analyze(
    kind: Annotated[str, typer.Argument(help="proportion, mean or ratio.")],
    variants: Annotated[
        list[str],
        typer.Argument(
            help="NAME=n/conversions (proportion), NAME=n/sum/sum_squares (mean), "
            "NAME=n/num_sum/num_sum_sq/den_sum/den_sum_sq/cross_sum (ratio), mean and ratio "
            "optionally ending in /nonzero_units (units with a value or an order); control first."
        ),
    ],
    alpha: Annotated[float, typer.Option(parser=ALPHA, help="Significance level.")] = 0.05,
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
    if len(variants) < 2:
        refuse(f"analyze compares at least two variants, the control first: {ANALYZE_EXAMPLE}")
    parsed = [parse_variant(kind, text) for text in variants]
    with inputs_named_by_flags(
        ANALYZE_FLAGS, variants, f" (each variant is {_variant_form(kind)})"
    ):
        result = stats.analyze(
            kind,
            parsed,
            alpha=alpha,
            alternative=alternative,
            correction=correction,
            planned_units_per_variant=planned_units,
            minimums=_minimums(minimum_conversions, minimum_units),
        )
    # At least 120 columns: the comparison table is unreadable when squeezed into 80.
    console = Console(width=max(Console().width, 120))
    print_analysis(result, console)
    console.print(planned_note(planned_units))


def planned_note(planned_units: int | None) -> str:
    """Which planned size tuned the sequential reading, and how to match a results page."""
    if planned_units is None:
        return (
            f"The sequential interval is tuned for {count(DEFAULT_PLANNED_UNITS_PER_VARIANT)} "
            "planned units per variant (the default). A results page tunes it with its "
            "experiment's planned size (design.planned_units_per_variant, or the size the "
            "design's power needs); pass --planned-units N with that size to get its interval."
        )
    return (
        f"The sequential interval is tuned for {count(planned_units)} planned units per "
        "variant (--planned-units); a results page with the same planned size agrees."
    )


def _minimums(conversions: int | None, units: int | None) -> dict[str, int] | None:
    given = {"conversions": conversions, "units": units}
    chosen = {name: value for name, value in given.items() if value is not None}
    return chosen or None


class _Baselines(TypedDict):
    """The control's expected rate, or its mean and standard deviation (the flags given)."""

    baseline_rate: float | None
    baseline_mean: float | None
    baseline_sd: float | None


class _Design(TypedDict):
    """The planned test's design, as both planning calculations take it."""

    alpha: float
    power: float
    variants: int
    test: str


def sample_size(
    mde: Annotated[
        float | None,
        typer.Option(
            parser=relative_change("--mde"),
            help="Relative minimum detectable effect: 0.1 or 10% (at most 5, +500 %).",
        ),
    ] = None,
    baseline: Annotated[
        float | None,
        typer.Option(parser=BASELINE, help="Baseline conversion rate: 0.025 or 2.5%."),
    ] = None,
    baseline_mean: Annotated[float | None, typer.Option(help="Baseline mean.")] = None,
    baseline_sd: Annotated[float | None, typer.Option(help="Baseline standard deviation.")] = None,
    alpha: Annotated[float, typer.Option(parser=ALPHA, help="Significance level.")] = 0.05,
    power: Annotated[float, typer.Option(parser=POWER, help="Power: 0.8 or 80%.")] = 0.8,
    variants: Annotated[int, typer.Option(help="Number of variants, control included.")] = 2,
    daily_units: Annotated[float | None, typer.Option(help="Units entering per day.")] = None,
    list_size: Annotated[
        int | None,
        typer.Option(
            max=MAX_COUNT, help="A fixed list (newsletter): its size; answers what it can detect."
        ),
    ] = None,
    test_share: Annotated[
        float,
        typer.Option(
            parser=TEST_SHARE, help="Share of the list in the test: 0.2 or 20% (with --list-size)."
        ),
    ] = 1.0,
    test: Annotated[
        str,
        typer.Option(help="sequential (the test that decides, default) or fixed (one look)."),
    ] = "sequential",
) -> None:
    """Units per variant needed, e.g. `vekst sample-size --baseline 0.025 --mde 0.1`; or, for a
    newsletter, what a list can detect: `vekst sample-size --baseline 0.03 --list-size 20000`
    (with --baseline-mean and --baseline-sd for a mean, such as revenue per recipient)."""
    design = _Design(alpha=alpha, power=power, variants=variants, test=test)
    baselines = _Baselines(
        baseline_rate=baseline, baseline_mean=baseline_mean, baseline_sd=baseline_sd
    )
    if list_size is not None:
        _detectable(list_size, test_share, baselines, design)
        return
    mde_relative = _required(mde, "--mde is required (or --list-size for a fixed list)")
    with inputs_named_by_flags():
        result = stats.sample_size(
            mde_relative=mde_relative, daily_units=daily_units, **baselines, **design
        ).to_dict()
    typer.echo(f"units per variant: {count(result['units_per_variant'])} ({result['test']} test)")
    typer.echo(f"total units:       {count(result['total_units'])}")
    if result.get("days") is not None:
        typer.echo(f"days to run:       {days(result['days'])}")
        if result["days"] > _YEAR_DAYS:
            typer.echo(
                "warning: that is more than a year. Few shops can wait that long: test a bolder "
                "change (a larger --mde) or a page with more traffic."
            )


def _detectable(list_size: int, test_share: float, baselines: _Baselines, design: _Design) -> None:
    per_variant = int(list_size * test_share // design["variants"])
    with inputs_named_by_flags():
        found = stats.detectable_effect(units_per_variant=per_variant, **baselines, **design)
    rate, mean = baselines["baseline_rate"], baselines["baseline_mean"]
    start = percent(rate) if rate is not None else f"a mean of {decimal(mean or 0.0)}"
    typer.echo(
        f"With {count(per_variant)} subscribers per variant your list can detect a change of "
        f"{percent(found.mde_relative)} or more (from {start}; {design['test']} test)."
    )


def _required(value: T | None, message: str) -> T:
    """`value`, or the error `message` printed and exit 2 when a required flag was not given."""
    if value is None:
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(2)
    return value


def register(cli: typer.Typer) -> None:
    cli.command()(analyze)
    cli.command("sample-size")(sample_size)
