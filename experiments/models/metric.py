"""Custom metrics: the stored table and the API shapes around it.

Input contract (one place): a metric key is a slug (a-z, 0-9, `-`, `_`, 1-64 characters) that
is not a built-in key; event names are slugs. `kind` decides the sides: a `conversion` metric
counts units with at least one numerator event (aggregation `any`); a `mean` metric averages
the per-unit `count` or `sum` of values of its numerator event; a `ratio` metric divides the
numerator summed over units by the denominator summed over units and needs `denominator_event`.
`window_hours` (0 < window_hours <= 8760, one year) limits the events counted to that many hours
after the unit's first exposure; `cap` (0 < cap <= 1e15) caps each unit's numerator value before
summing. Names have 1-200 characters of storable text (no NUL, no lone surrogates).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from experiments.db import UTCDateTime
from experiments.inputs import MAX_MAGNITUDE, SafeText

MetricSlug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,64}$")]
MAX_WINDOW_HOURS = 8760.0
MetricName = Annotated[
    SafeText, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)
]
Kind = Literal["conversion", "mean", "ratio"]
Direction = Literal["increase", "decrease"]
Aggregation = Literal["any", "count", "sum"]


class MetricBase(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    key: MetricSlug
    name: MetricName
    kind: Kind
    direction: Direction = "increase"
    numerator_event: MetricSlug
    numerator_aggregation: Aggregation = "any"
    denominator_event: MetricSlug | None = None
    denominator_aggregation: Aggregation = "count"
    numerator_unless: MetricSlug | None = None
    window_hours: float | None = Field(default=None, gt=0, le=MAX_WINDOW_HOURS)
    cap: float | None = Field(default=None, gt=0, le=MAX_MAGNITUDE)


class MetricCreate(MetricBase):
    """Body of `POST /v1/metrics`."""


class CustomMetric(SQLModel, table=True):
    __tablename__ = "metrics"

    id: int | None = SQLField(default=None, primary_key=True)
    key: str = SQLField(max_length=64, unique=True)
    name: str = SQLField(max_length=200)
    kind: str = SQLField(max_length=16)
    direction: str = SQLField(max_length=16)
    numerator_event: str = SQLField(max_length=64)
    numerator_aggregation: str = SQLField(max_length=8)
    denominator_event: str | None = SQLField(default=None, max_length=64)
    denominator_aggregation: str = SQLField(max_length=8)
    numerator_unless: str | None = SQLField(default=None, max_length=64)
    window_hours: float | None = None
    cap: float | None = None
    created_at: datetime = SQLField(sa_type=UTCDateTime)


class MetricPublic(SQLModel):
    key: str
    name: str
    kind: Kind
    direction: Direction
    numerator_event: str
    numerator_aggregation: Aggregation
    denominator_event: str | None
    denominator_aggregation: Aggregation | None
    numerator_unless: str | None
    window_hours: float | None
    cap: float | None
    builtin: bool
