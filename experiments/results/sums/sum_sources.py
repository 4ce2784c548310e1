"""Where an experiment's per-variant sums come from: its events, or counts pasted for it.

Event-fed experiments are aggregated in SQL (`aggregation.py`). A newsletter whose e-mail tool
reported per-variant totals (`experiments.pasted_counts`) is read from the newest paste up to
the results' end instead; the metrics those totals cannot give keep their place on the page
with a reason, like any metric that cannot be analysed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from sqlalchemy.engine import Connection
from sqlmodel import Session

from experiments.metrics import denominator_nouns
from experiments.models.metric import MetricDefinition
from experiments.models.pasted_counts import PastedCount
from experiments.pasted_counts import latest_counts
from experiments.results.readings.metric_analysis import (
    MetricSums,
    analyse_metrics,
    metric_result,
)
from experiments.results.readings.quantile_metric import quantile_result
from experiments.results.sums.aggregation import Aggregates, VariantSums, aggregate
from experiments.results.sums.look_basis import HowTaken, LookBasis
from experiments.results.sums.quantiles import quantile_sums
from experiments.results.sums.unit_columns import EventIds
from experiments.results.types import MetricIssue, MetricResult, Role
from experiments.results.words.formatting import count, plural
from stats import AnalysisOptions, RatioStats
from stats.quantiles import QuantileSums

Source = Literal["events", "pasted_counts"]


@dataclass(frozen=True, slots=True)
class ExperimentSums:
    """Sums per metric and variant, and why some metrics cannot be compared from them."""

    aggregates: Aggregates
    source: Source
    missing: dict[str, str] = field(default_factory=dict)
    not_pasted: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Per metric, the variants whose pasted counts leave its field out (no revenue pasted):
    their value is unknown, not 0."""
    quantiles: dict[str, dict[str, QuantileSums]] = field(default_factory=dict)
    """Per quantile metric and variant, its summaries (`sums.quantiles`), beside `aggregates`
    (which carry such a metric as a count of its events, read by nothing)."""
    first_exposed_at: datetime | None = None
    """A bandit's first exposure up to the look's end, where its exploration counts from
    (None: none yet, or not a bandit)."""
    taken: HowTaken | None = None
    """For a stored look: incremental or full, and why (`look_sums.sums_of_new_looks`)."""
    basis: LookBasis | None = None
    """For a stored look: what the next look may start from (None: it cannot)."""

    def analyse(
        self,
        metrics: Sequence[tuple[MetricDefinition, Role, float | None]],
        options: AnalysisOptions,
    ) -> list[MetricResult]:
        """Each metric's result (given with its role and a guardrail's margin), in order:
        analysed (with the margin's one-sided bounds), or its values with the reason it has no
        comparison. The summed metrics' comparisons are read at once (`analyse_metrics`)."""
        summed = [
            MetricSums(metric, role, self.aggregates.metrics[metric.key], margin)
            for metric, role, margin in metrics
            if metric.key not in self.missing and metric.kind != "quantile"
        ]
        analysed = iter(analyse_metrics(summed, options))
        results = []
        for metric, role, margin in metrics:
            if metric.key in self.missing or metric.kind == "quantile":
                results.append(self._unsummed(metric, role, options, margin))
                continue
            sums = self.aggregates.metrics[metric.key]
            results.append(
                replace(
                    next(analysed),
                    value_format=metric.value_format,
                    denominators=denominators(metric, sums),
                )
            )
        return results

    def _unsummed(
        self, metric: MetricDefinition, role: Role, options: AnalysisOptions, margin: float | None
    ) -> MetricResult:
        """A metric the pasted counts leave out, or a quantile metric (read from its
        summaries)."""
        sums = self.aggregates.metrics[metric.key]
        if metric.key in self.missing:
            missing = self.missing[metric.key]
            result = metric_result(metric, role, sums, MetricIssue.NOT_IN_PASTED_COUNTS, missing)
            absent = self.not_pasted.get(metric.key, ())
            variants = tuple(
                replace(variant, mean=None) if variant.key in absent else variant
                for variant in result.variants
            )
            return replace(
                result,
                value_format=metric.value_format,
                margin=margin,
                variants=variants,
                not_pasted=absent,
            )
        return quantile_result(metric, role, self.quantiles[metric.key], options, margin)


def quantiles_of(
    connection: Connection,
    key: str,
    variants: Sequence[str],
    metrics: Sequence[MetricDefinition],
    end: datetime,
    ceiling: EventIds | None = None,
) -> dict[str, dict[str, QuantileSums]]:
    """The summaries of each quantile metric among `metrics` at `end` (one query each; with
    `ceiling`, of the events up to its ids)."""
    return {
        metric.key: quantile_sums(connection, key, variants, metric, end, ceiling)
        for metric in metrics
        if metric.kind == "quantile"
    }


def denominators(metric: MetricDefinition, sums: dict[str, VariantSums]) -> str | None:
    """'3 orders in control, 41 in one-page' for a ratio metric, else None."""
    if metric.kind != "ratio" or metric.denominator_event is None:
        return None
    singular, plural_form = denominator_nouns(metric)
    parts = []
    for index, (key, variant) in enumerate(sums.items()):
        amount = variant.totals.denominator_sum
        text = plural(amount, singular, plural_form) if index == 0 else count(amount)
        parts.append(f"{text} in {key}")
    return ", ".join(parts)


def load_sums(
    session: Session,
    key: str,
    variants: Sequence[str],
    metrics: Sequence[MetricDefinition],
    end: datetime,
    cap_percentiles: Mapping[str, float] | None = None,
    dimensions: Sequence[str] = (),
    periods: Sequence[datetime] = (),
    ceiling: EventIds | None = None,
    caps: Mapping[str, float | None] | None = None,
) -> ExperimentSums:
    """The sums the results up to `end` are computed from (pasted counts take precedence;
    percentile caps, the levels of `dimensions` and a bandit's `periods` (the starts of its
    update periods after the first) apply to event-fed sums, since pasted totals have no
    per-unit values); with `ceiling`, of the events up to its ids; `caps`, the percentile caps
    already computed at this end and ceiling (`aggregate`)."""
    pasted = latest_counts(session, key, end)
    if pasted is None:
        connection = session.connection()
        aggregates = aggregate(
            connection,
            key,
            variants,
            metrics,
            end,
            cap_percentiles=cap_percentiles,
            dimensions=dimensions,
            periods=periods,
            ceiling=ceiling,
            caps=caps,
        )
        return ExperimentSums(
            aggregates,
            "events",
            quantiles=quantiles_of(session.connection(), key, variants, metrics, end, ceiling),
        )
    units = {variant: pasted[variant].sent if variant in pasted else 0 for variant in variants}
    sums: dict[str, dict[str, VariantSums]] = {}
    missing: dict[str, str] = {}
    not_pasted: dict[str, tuple[str, ...]] = {}
    for metric in metrics:
        sums[metric.key] = {variant: _sums(metric, pasted.get(variant)) for variant in variants}
        problem = _why_missing(metric, [pasted.get(variant) for variant in variants])
        if problem is not None:
            missing[metric.key] = problem
        name = metric.pasted_field
        not_pasted[metric.key] = tuple(
            variant
            for variant in variants
            if name is None or variant not in pasted or getattr(pasted[variant], name) is None
        )
    aggregates = Aggregates.by_variant(units, 0, sums)
    return ExperimentSums(aggregates, "pasted_counts", missing, not_pasted)


def _sums(metric: MetricDefinition, row: PastedCount | None) -> VariantSums:
    sent = 0 if row is None else row.sent
    name = metric.pasted_field
    value = getattr(row, name) if row is not None and name is not None else None
    total = float(value or 0.0)
    if metric.kind == "conversion":
        squares = total  # a recipient counts 0 or 1
    else:
        squares = float(row.revenue_sum_squares or 0.0) if row is not None else 0.0
    # Per recipient the denominator is 1: its sums are the recipients sent to.
    totals = RatioStats(
        n=sent,
        numerator_sum=total,
        numerator_sum_squares=squares,
        denominator_sum=float(sent),
        denominator_sum_squares=float(sent),
        cross_sum=total,
    )
    return VariantSums(totals)


def _why_missing(metric: MetricDefinition, rows: list[PastedCount | None]) -> str | None:
    name = metric.pasted_field
    if name is None:
        return (
            f"{metric.name} needs per-subscriber events; the pasted counts (sent, opened, "
            "clicked, unsubscribed, revenue) do not give it"
        )
    if any(row is None or getattr(row, name) is None for row in rows):
        return f"the pasted counts have no '{name}' for every variant"
    if name == "revenue" and any(row is None or row.revenue_sum_squares is None for row in rows):
        return (
            "the pasted counts have revenue but no revenue_sum_squares, so the revenue's spread "
            "is unknown: the value per recipient is shown without a comparison"
        )
    return None
