"""Response models: what the statistics and event routes answer, for the OpenAPI.

The domain builds these answers as plain dicts (`to_dict`); the models describe them so clients
and the fuzzer in the test suite know the truth. They allow extra fields: a field added to an
answer later is passed on, never silently dropped. Numbers that cannot be computed are null.
The results routes serve the results page's own typed models (`experiments.results.page`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Open(BaseModel):
    # Attribute docstrings become the fields' descriptions in the OpenAPI.
    model_config = ConfigDict(extra="allow", use_attribute_docstrings=True)


class IntervalOut(_Open):
    estimate: float | None
    ci_low: float | None
    ci_high: float | None


class SequentialOut(_Open):
    p_value: float | None
    absolute: IntervalOut
    relative: IntervalOut
    significant: bool


class BayesianOut(_Open):
    chance_to_beat: float | None
    expected_loss: float | None


class CupedOut(_Open):
    variance_reduction: float | None


class ComparisonOut(_Open):
    """One variant against the control; `reason` names why figures are missing or partial."""

    variant: str
    baseline: str
    absolute: IntervalOut
    relative: IntervalOut
    p_value: float | None
    p_value_adjusted: float | None
    significant: bool
    sequential: SequentialOut
    bayesian: BayesianOut
    reason: str | None
    cuped: CupedOut | None = None


class VariantSummaryOut(_Open):
    key: str
    n: int
    mean: float | None
    effective_units: float | None = None
    """Mean and ratio metrics: the units the spread and the degrees of freedom were read from."""
    effective_units_rule: Literal["nonzero_units", "kish"] | None = None
    """`nonzero_units` as given, or `kish`: (sum x)^2 / sum x^2 of the values (mean) or the
    denominators (ratio), at most the units with one, when `nonzero_units` was not given."""


class SrmOut(_Open):
    p_value: float | None
    mismatch: bool


class AnalysisOut(_Open):
    """`POST /v1/stats/analyze`: fixed-horizon, sequential and Bayesian readings."""

    kind: str
    alpha: float
    variants: list[VariantSummaryOut]
    srm: SrmOut
    comparisons: list[ComparisonOut]


class SampleSizeOut(_Open):
    """`POST /v1/stats/sample-size`."""

    units_per_variant: int
    total_units: int
    days: int | None


class FieldErrorOut(BaseModel):
    field: str
    rule: str


class RejectionOut(BaseModel):
    """One refused event: its position in the batch and every rule it broke."""

    index: int
    errors: list[FieldErrorOut]


class EventsAccepted(BaseModel):
    """`POST /v1/events`: accepted + duplicates + len(rejected) = events sent."""

    accepted: int
    duplicates: int
    rejected: list[RejectionOut]


class ExposureCountOut(_Open):
    experiment: str
    variant: str
    count: int


class ConversionCountOut(_Open):
    name: str
    count: int
    value_sum: float | None


class BacklogOut(_Open):
    """The Redis stream that buffers events; the counts are null when Redis cannot be reached."""

    stream: str
    """The stream's Redis key."""
    entries: int | None = None
    """Entries (batches of events) not stored yet; a worker deletes each once it is stored."""
    pending: int | None = None
    """Of those, the ones a worker has read but not yet acknowledged."""
    consumers: int | None = None
    """Workers in the stream's consumer group."""
    dead_letters: int | None = None
    """Entries or events set aside because they could not be stored (see docs/events.md)."""
    error: str | None = None
    """Why Redis could not be read, when it could not."""


class UnusedEventNameOut(_Open):
    """A stored conversion name that no metric reads (often a typo of one that does)."""

    name: str
    count: int


class MissingEventOut(_Open):
    """An event a running experiment's metric reads that has not arrived in 24 hours (the page
    never sends it, or sends it under another name): the metric reads 0 in every variant."""

    experiment: str
    metric: str
    event: str
    last_seen: datetime | None
    """When one last arrived (received by the server); null when none ever did."""


class EventsSummaryOut(_Open):
    """`GET /v1/events/summary`: stored counts, the conversion names no metric reads, the
    metrics' events that have not arrived in 24 hours, and the Redis backlog (null without
    Redis)."""

    exposures: list[ExposureCountOut]
    conversions: list[ConversionCountOut]
    unused_event_names: list[UnusedEventNameOut]
    missing_events: list[MissingEventOut]
    backlog: BacklogOut | None
