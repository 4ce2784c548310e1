"""What the pages show, built from a stored look (its page) and the experiment's looks.

The words and figures come from `experiments.results.words` (`formatting`, `wording` and
`tables`), the modules behind the JSON's summary and the terminal table, so the three surfaces
agree.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from markupsafe import Markup, escape
from sqlmodel import Session

from api.pages.charts import Chart, UpliftPoint, uplift_chart
from experiments.inputs import printable
from experiments.metrics import metric_catalog
from experiments.models.experiment import Experiment
from experiments.results.page import ResultsPage
from experiments.results.types import MetricIssue, Verdict
from experiments.results.words.formatting import day, days, percent, plural
from experiments.results.words.glossary import explain
from experiments.results.words.segment_words import (
    DIFFER_NOTE,
    NO_LEVELS,
    differ_line,
    level_line,
    segment_note,
)
from experiments.results.words.tables import columns, metric_rows, metric_title
from experiments.results.words.wording import interval_text, verdict_words
from stats import Interval

_YEAR_DAYS = 365


@dataclass(frozen=True, slots=True)
class MetricTable:
    key: str
    title: str
    role: str
    columns: tuple[str, ...]
    rows: list[list[str]]
    notes: list[str]
    chart: Chart | None
    chart_text: str


@dataclass(frozen=True, slots=True)
class DesignFacts:
    planned: str | None
    mde: str
    alpha: str
    days_left: str | None
    currency: str


@dataclass(frozen=True, slots=True)
class LevelView:
    level: str
    line: str
    tables: list[MetricTable]


@dataclass(frozen=True, slots=True)
class SegmentsView:
    """The Segments section: the dimension shown, the others to choose, the levels' tables."""

    dimension: str
    dimensions: list[str]
    note: str
    unknown: str | None
    """A dimension asked for that the experiment does not have (the first is shown)."""
    levels: list[LevelView]
    empty: str
    differ: list[str]
    """The segments that differ (`ResultsPage.segments_that_differ`), one line each."""
    differ_note: str = DIFFER_NOTE


def segments_view(page: ResultsPage, unknown: str | None) -> SegmentsView | None:
    """The look's breakdown (`page.segments`) as tables, one per metric and level."""
    segments = page.segments
    if segments is None:
        return None
    headers = (*columns(page.unit), "reading")
    levels = []
    for level in segments.levels:
        tables = []
        for metric in level.metrics:
            rows, notes = metric_rows(metric, page.currency)
            title = metric_title(metric)
            tables.append(
                MetricTable(metric.metric, title, metric.role, headers, rows, notes, None, "")
            )
        levels.append(LevelView(level.level, level_line(level, page.unit), tables))
    return SegmentsView(
        segments.dimension,
        segments.dimensions,
        segment_note(segments),
        None if unknown is None else printable(unknown),
        levels,
        NO_LEVELS,
        [differ_line(cell) for cell in page.segments_that_differ or ()],
    )


def metric_tables(page: ResultsPage, history: Sequence[ResultsPage]) -> list[MetricTable]:
    """One table per metric of the look, each with its chart over `history` (looks, oldest
    first)."""
    headers = (*columns(page.unit), "reading")
    tables = []
    for index, metric in enumerate(page.metrics):
        rows, notes = metric_rows(metric, page.currency)
        series = uplift_series(history, metric.metric)
        size = (640, 260) if index == 0 else (320, 140)
        # One look is a point, not a line: no chart until there are two.
        drawn = max((len(points) for points in series.values()), default=0) >= 2
        chart = uplift_chart(series, *size) if drawn else None
        tables.append(
            MetricTable(
                metric.metric,
                metric_title(metric),
                metric.role,
                headers,
                rows,
                notes,
                chart,
                chart_text(metric.name, series),
            )
        )
    return tables


def uplift_series(history: Sequence[ResultsPage], metric: str) -> dict[str, list[UpliftPoint]]:
    """Per variant compared with the control: its relative change and sequential interval at
    each look."""
    found: dict[str, list[UpliftPoint]] = {}
    for look in history:
        entry = next((m for m in look.metrics if m.metric == metric), None)
        if entry is None:
            continue
        for comparison in entry.comparisons:
            bounds = comparison.sequential.relative
            found.setdefault(comparison.variant, []).append(
                UpliftPoint(look.as_of, comparison.relative.estimate, bounds.ci_low, bounds.ci_high)
            )
    return found


def chart_text(name: str, series: Mapping[str, Sequence[UpliftPoint]]) -> str:
    """The chart in one sentence per variant, for screen readers and as its caption."""
    if not series:
        return f"No looks of {name} yet."
    sentences = []
    for variant, points in series.items():
        last = next((p for p in reversed(points) if p.estimate is not None), None)
        looks = plural(len(points), "look")
        if last is None or last.estimate is None:
            sentences.append(f"{variant}: no change measured yet over {looks}.")
            continue
        bounds = interval_text(Interval(None, last.low, last.high), None)
        sentences.append(
            f"{variant} against the control over {looks}: latest change "
            f"{percent(last.estimate, signed=True)}, likely range {bounds}."
        )
    return f"{name}, relative change per look. " + " ".join(sentences)


def design_facts(experiment: Experiment, page: ResultsPage | None) -> DesignFacts:
    """The design in words; a draft (no look: `page` None) shows what was designed."""
    design = experiment.design
    unit = experiment.unit_type
    decision = None if page is None else page.decision
    planned = None if page is None else page.planned_units_per_variant
    planned = planned or design.planned_units_per_variant
    plan_text = None if page is None or page.plan is None else page.plan.text
    left = None if decision is None else decision.additional_days
    listed = None
    if decision is not None and decision.list_plan is not None:
        listed = decision.list_plan.detectable_change
    mde = percent(design.mde_relative)
    if listed is not None:
        # A send to a fixed list: its size, not the design's default, sets what it detects.
        mde = f"{percent(listed)} or more (what your list can detect)"
    return DesignFacts(
        plan_text or (None if planned is None else f"{plural(planned, unit)} per variant"),
        mde,
        f"{percent(design.alpha)} (a {percent(1 - design.alpha)} likely range)",
        None if left is None else (days(left) if left <= _YEAR_DAYS else "more than a year"),
        design.currency,
    )


def banners(page: ResultsPage) -> list[str]:
    """The warnings the page leads with: sample ratio mismatch and data quality."""
    return list(page.warnings)


def stop_choice(page: ResultsPage | None) -> str:
    """The winner the stop form pre-selects: the variant a "ship" verdict names, else none (the
    control is served)."""
    if page is None or page.decision.verdict is not Verdict.SHIP:
        return ""
    return page.decision.variant or ""


def stop_caution(page: ResultsPage | None, winner: str | None) -> str | None:
    """Why shipping `winner` needs a second confirmation, or None: the control, no winner, or
    the variant a "ship" verdict names need none."""
    primary = None if page is None else page.primary
    if page is None or primary is None:
        return None
    control = primary.variants[0].key
    if winner is None or winner == control or winner == stop_choice(page):
        return None
    units = {variant.key: variant.n for variant in primary.variants}
    comparison = primary.comparison_of(winner)
    thin = comparison is None or comparison.sequential.relative.ci_low is None
    if thin or primary.reason is MetricIssue.NOT_ENOUGH_UNITS:
        return (
            f"{winner} has fewer than the minimum data for a reading of "
            f"{primary.name.lower()} ({plural(units.get(winner, 0), page.unit)} so far)."
        )
    if comparison is not None and comparison.outcome == "improved":
        return None
    return (
        f"{winner} has not been shown better than {control} on {primary.name.lower()}: "
        f"the data says {verdict_words(page.decision.verdict.value).lower()}."
    )


def ago(then: datetime, now: datetime) -> str:
    """'just now', '12 minutes ago', '3 hours ago', '2 days ago'."""
    seconds = max((now - then).total_seconds(), 0.0)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{plural(seconds // 60, 'minute')} ago"
    if seconds < 86400:
        return f"{plural(seconds // 3600, 'hour')} ago"
    return f"{plural(seconds // 86400, 'day')} ago"


def freshness(page: ResultsPage, now: datetime, interval: timedelta, final: bool) -> str:
    """How old the look is and when the next one comes: 'Look 3, as of 08:36 UTC, 12 minutes
    ago; next look about 09:36 UTC (or take one now).'"""
    computed = page.computed_at
    look = f"Look {page.look}, as of" if page.look else "As of"
    when = f"{look} {_clock(computed, now)}, {ago(computed, now)}"
    if final:
        return f"{when}: the final look, taken at the stop."
    upcoming = max(computed + interval, now)
    return f"{when}; next look about {_clock(upcoming, now)} (or take one now)."


def _clock(moment: datetime, now: datetime) -> str:
    """'08:36 UTC' today, '3 March 2026 08:36 UTC' on another day."""
    moment = moment.astimezone(UTC)
    if moment.date() == now.astimezone(UTC).date():
        return f"{moment:%H:%M} UTC"
    return f"{day(moment.date())} {moment:%H:%M} UTC"


def readable_json(value: Any) -> str:
    """A payload as people read it: UTF-8 text, not \\u escapes ('{"text": "Kjøp nå"}')."""
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class DecidingFacts:
    primary: str
    traffic: str
    targeting: str


def deciding_facts(session: Session, experiment: Experiment) -> DecidingFacts:
    """What decides and who is in it: the primary metric, the traffic share, the targeting."""
    selection = experiment.metrics
    catalog = metric_catalog(session)
    found = catalog.get(selection.primary)
    primary = selection.primary if found is None else f"{found.name} ({selection.primary})"
    share = f"{percent(experiment.traffic)} of {experiment.unit_type}s"
    targeting = "everyone" if not experiment.targeting else readable_json(experiment.targeting)
    return DecidingFacts(primary, share, targeting)


def with_terms(text: str, *terms: str) -> Markup:
    """`text` escaped for HTML, with the first use of each of `terms` (any letter case, whole
    words) explained where it stands: an `<abbr>` whose title is the glossary's sentence."""
    html = str(escape(text))
    for term in terms:
        meaning = explain(term)
        if meaning is None:
            raise ValueError(f"{term!r} is not in the glossary")
        word = re.compile(rf"(?<!\w){re.escape(str(escape(term)))}(?!\w)", re.IGNORECASE)
        # A backslash in the title would read as an escape in the replacement template.
        opening = f'<abbr title="{escape(meaning)}">'.replace("\\", "\\\\")
        html = word.sub(rf"{opening}\g<0></abbr>", html, count=1)
    return Markup(html)  # noqa: S704 (escaped above; only the abbr tags are added)
