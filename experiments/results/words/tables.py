"""A results page's metric tables in words: the cells and notes the terminal table and the web
page both show, so the two read alike (and like the JSON they come from)."""

from __future__ import annotations

from experiments.results.page import ComparisonPage, MetricPage
from experiments.results.words.formatting import (
    count,
    metric_value,
    p_value,
    percent,
    plural,
    probability,
)
from experiments.results.words.wording import CORRECTION_NAMES, interval_text, reason_text
from stats import Interval


def columns(unit: str = "unit") -> tuple[str, ...]:
    """The table's column headers, the units named as the experiment names them ('visitors');
    each statistical one is explained in `glossary`."""
    return (
        "variant",
        f"{unit}s",
        "value",
        "change",
        "likely range",
        "p-value",
        "chance it is better",
    )


COLUMNS = columns()


def metric_title(metric: MetricPage) -> str:
    better = "higher is better" if metric.direction == "increase" else "lower is better"
    return f"{metric.name} ({metric.metric}, {metric.role}, {better})"


def metric_rows(metric: MetricPage, currency: str) -> tuple[list[list[str]], list[str]]:
    """One row per variant (the COLUMNS, then the reading in words) and the notes under the
    table."""
    comparisons = {comparison.variant: comparison for comparison in metric.comparisons}
    rows: list[list[str]] = []
    notes: list[str] = []
    absent = set(metric.not_pasted)
    for variant in metric.variants:
        value = metric_value(variant.value, metric.value_format, currency)
        if variant.key in absent:
            value = "not pasted"
        row = [variant.key, count(variant.n), value]
        comparison = comparisons.get(variant.key)
        if comparison is None:
            row += ["control" if comparisons else "", "", "", "", ""]
        else:
            row += comparison_cells(comparison)
            notes += comparison_notes(variant.key, comparison)
        rows.append(row)
    notes += family_notes(metric)
    if metric.denominators:
        notes.append(f"counted over {metric.denominators}")
    if metric.cap is not None and metric.cap.description:
        notes.append(metric.cap.description)
    if metric.reason is not None:
        notes.append(f"no comparison: {metric.reason_text or reason_text(metric.reason)}")
    return rows, notes


def family_notes(metric: MetricPage) -> list[str]:
    """A secondary metric's family in one line: the correction, its size and each variant's
    adjusted p-value ('secondary family, Benjamini-Hochberg over 6 readings: adjusted p-value
    b 0.21'). The primary metric and the guardrails are read on their own, as titled."""
    families = [(c.variant, c.family) for c in metric.comparisons if c.family is not None]
    if metric.role != "secondary" or not families:
        return []
    first = families[0][1]
    adjusted = ", ".join(
        f"{variant} {_p_or_none(family.sequential_p_value_adjusted)}"
        for variant, family in families
    )
    return [
        f"secondary family, {CORRECTION_NAMES.get(first.correction, first.correction)} over "
        f"{plural(first.size, 'reading')}: adjusted p-value {adjusted}"
    ]


def _p_or_none(value: float | None) -> str:
    return "none yet" if value is None else p_value(value)


def comparison_cells(comparison: ComparisonPage) -> list[str]:
    """change, sequential interval, sequential p, chance to beat, reading."""
    sequential = comparison.sequential
    relative = comparison.relative.estimate
    interval = Interval(None, sequential.relative.ci_low, sequential.relative.ci_high)
    chance = comparison.bayesian.chance_to_beat
    seq_p = sequential.p_value
    reading = comparison.guardrail or (comparison.outcome or "").replace("_", " ")
    return [
        "no value yet" if relative is None else percent(relative, signed=True),
        short_interval(interval),
        "none yet" if seq_p is None else p_value(seq_p),
        chance_cell(chance, decided=comparison.significant_in_family),
        reading,
    ]


def chance_cell(chance: float | None, *, decided: bool) -> str:
    """'97 %'; beside a reading that does not decide, why the chance does not either: '97 %,
    not enough evidence yet to decide'."""
    if chance is None:
        return "none yet"
    if decided:
        return probability(chance)
    return f"{probability(chance)}, not enough evidence yet to decide"


def short_interval(interval: Interval) -> str:
    if interval.ci_low is None and interval.ci_high is None:
        return "none yet, see below"
    return interval_text(interval, None)


def comparison_notes(variant: str, comparison: ComparisonPage) -> list[str]:
    notes = []
    bounds = comparison.sequential.relative
    words = comparison.reason_text
    if bounds.ci_low is None and bounds.ci_high is None:
        why = words or interval_text(Interval(None, None, None), comparison.reason)
        notes.append(f"{variant}: no likely range yet ({why.removeprefix('none yet: ')})")
    elif comparison.reason is not None:
        notes.append(f"{variant}: {words or reason_text(comparison.reason)}")
    if comparison.note:
        notes.append(f"{variant}: {comparison.note}")
    return notes
