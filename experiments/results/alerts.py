"""What changed between two looks: the facts a look is judged by, and the alerts they raise.

Pure: it reads two looks and says which alerts fire. Queueing them for the webhooks subscribed
to them is `webhooks.store.queue_look_alerts`' work, handed each `NewLook` by whoever took the
look (the scheduler, the routes, the CLI).

An alert fires on a *change*: the verdict differs from the previous look's (or a first look
already says more than "keep running"), a guardrail is harmed that was not at the previous look,
a sample ratio mismatch or a data-quality problem appears, the effect of a variant on the primary
metric or a guardrail starts changing over time, a segment is found to differ (`segment_differs`;
the findings run over the looks, so a cell alerts once). A problem that persists alerts once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from experiments.models.snapshot import ResultSnapshot
from experiments.models.webhook import AlertKind
from experiments.results.sums.aggregation import Aggregates
from experiments.results.types import ExperimentResults, Verdict
from experiments.results.verdict.decision import DATA_QUALITY_BLOCKING_SHARE, harms


class MetricVariant(NamedTuple):
    """A metric and the variant compared on it with the control; stored as "metric:variant"."""

    metric: str
    variant: str

    def stored(self) -> str:
        return f"{self.metric}:{self.variant}"

    @classmethod
    def from_stored(cls, text: str) -> MetricVariant:
        metric, _, variant = text.partition(":")
        return cls(metric, variant)


class SegmentCell(NamedTuple):
    """A segment found to differ (`readings.segment_tests`); stored as a list."""

    dimension: str
    level: str
    variant: str
    rest_level: str | None

    def said_as(self) -> tuple[str, str, str]:
        """A two-level dimension's two cells are one test: both are said as the first level."""
        levels = sorted(x for x in (self.level, self.rest_level) if x is not None)
        return (self.dimension, levels[0], self.variant)


@dataclass(frozen=True, slots=True)
class LookFacts:
    """The alert-relevant facts of one look; stored with the look as JSON."""

    verdict: Verdict
    harmed: tuple[MetricVariant, ...]  # each guardrail comparison that harms
    srm: bool
    several_variants_share: float
    changing: tuple[MetricVariant, ...] = ()  # each primary or guardrail effect changing over time
    segments: tuple[SegmentCell, ...] = ()  # each segment found to differ, up to this look

    @property
    def data_quality(self) -> bool:
        return self.several_variants_share > DATA_QUALITY_BLOCKING_SHARE

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "harmed": [pair.stored() for pair in self.harmed],
            "srm": self.srm,
            "several_variants_share": self.several_variants_share,
            "changing": [pair.stored() for pair in self.changing],
            "segments": [list(cell) for cell in self.segments],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LookFacts:
        return cls(
            Verdict(data["verdict"]),
            tuple(MetricVariant.from_stored(text) for text in data["harmed"]),
            bool(data["srm"]),
            float(data["several_variants_share"]),
            # Looks stored before the changing effect have none.
            tuple(MetricVariant.from_stored(text) for text in data.get("changing", ())),
            tuple(SegmentCell(*cell) for cell in data.get("segments", ())),
        )

    @classmethod
    def of(cls, results: ExperimentResults, aggregates: Aggregates) -> LookFacts:
        harmed = tuple(
            MetricVariant(result.metric, comparison.variant)
            for result in results.metrics
            if result.role == "guardrail" and result.analysis is not None
            for comparison in result.analysis.comparisons
            if harms(result, comparison, result.margin)
        )
        changing = tuple(
            MetricVariant(result.metric, comparison.variant)
            for result in results.metrics
            if result.role != "secondary" and result.analysis is not None
            for comparison in result.analysis.comparisons
            if result.running_of(comparison.variant).effect_changing
        )
        segments = tuple(
            SegmentCell(f.dimension, f.level, f.variant, f.rest_level)
            for f in results.segments_that_differ or ()
        )
        verdict = results.decision.verdict
        share = aggregates.multi_variant_share
        return cls(verdict, harmed, results.srm.mismatch, share, changing, segments)


@dataclass(frozen=True, slots=True)
class Alert:
    kind: AlertKind
    headline: str  # one sentence naming what happened; the look's summary follows it


def alerts_between(previous: LookFacts | None, current: LookFacts) -> list[Alert]:
    """The alerts a look raises given the previous look's facts (None for a first look)."""
    alerts = []
    before = Verdict.KEEP_RUNNING if previous is None else previous.verdict
    if current.verdict != before:
        alerts.append(
            Alert(
                AlertKind.VERDICT_CHANGED,
                f"The verdict changed from {_words(before)} to {_words(current.verdict)}.",
            )
        )
    already = set() if previous is None else set(previous.harmed)
    for metric, variant in current.harmed:
        if (metric, variant) not in already:
            alerts.append(
                Alert(AlertKind.GUARDRAIL_HARMED, f"Variant {variant} harmed guardrail {metric}.")
            )
    before_changing = set() if previous is None else set(previous.changing)
    for metric, variant in current.changing:
        if (metric, variant) not in before_changing:
            alerts.append(
                Alert(
                    AlertKind.EFFECT_CHANGING,
                    f"The effect of variant {variant} on {metric} is changing over time.",
                )
            )
    alerts += _segment_alerts(previous, current)
    if current.srm and not (previous is not None and previous.srm):
        alerts.append(
            Alert(
                AlertKind.SRM_DETECTED,
                "The units are not split between the variants as designed (sample ratio mismatch).",
            )
        )
    if current.data_quality and not (previous is not None and previous.data_quality):
        alerts.append(
            Alert(
                AlertKind.DATA_QUALITY,
                f"{current.several_variants_share:.1%} of the units saw more than one variant.",
            )
        )
    return alerts


@dataclass(frozen=True, slots=True)
class NewLook:
    """A look just stored (the newest, after a backfill), with the facts of the look before it:
    None for an experiment's first look. The webhooks queue its alerts in the look's transaction.
    """

    look: ResultSnapshot
    previous: LookFacts | None

    def alerts(self) -> list[Alert]:
        """The alerts this look raises given the previous one (`alerts_between`)."""
        return alerts_between(self.previous, LookFacts.from_dict(self.look.sums["facts"]))


def _segment_alerts(previous: LookFacts | None, current: LookFacts) -> list[Alert]:
    """One alert per segment found to differ, when first found (a two-level dimension's two
    cells are one test: one alert)."""
    said = set() if previous is None else {cell.said_as() for cell in previous.segments}
    alerts = []
    for cell in current.segments:
        if cell.said_as() in said:
            continue
        said.add(cell.said_as())
        where = f"on {cell.rest_level}" if cell.rest_level else "in the rest of the units"
        alerts.append(
            Alert(
                AlertKind.SEGMENT_DIFFERS,
                f"The effect of variant {cell.variant} on {cell.dimension} {cell.level} differs "
                f"from its effect {where} (exploratory: the verdict stands).",
            )
        )
    return alerts


def _words(verdict: Verdict) -> str:
    return verdict.value.replace("_", " ")
