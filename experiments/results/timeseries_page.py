"""The per-day series of one metric (`GET /v1/experiments/{key}/results/timeseries`): a point
per UTC day, read from the last look of that day (`snapshots.timeseries`)."""

from __future__ import annotations

import datetime as dt

from experiments.models.metric import Direction, MetricKind
from experiments.results.page import ComparisonPage, VariantValue
from experiments.results.page_parts import IsoDatetime, PagePart
from experiments.results.types import MetricIssue


class TimeseriesPoint(PagePart):
    """One metric at the last look of a UTC day."""

    date: dt.date
    as_of: IsoDatetime
    look: int | None = None
    variants: list[VariantValue]
    comparisons: list[ComparisonPage]
    reason: MetricIssue | None
    computed_at: IsoDatetime


class Timeseries(PagePart):
    """`GET /v1/experiments/{key}/results/timeseries`."""

    experiment: str
    metric: str
    kind: MetricKind
    direction: Direction
    points: list[TimeseriesPoint]
