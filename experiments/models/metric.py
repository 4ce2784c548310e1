"""Metrics: one family of models for the built-in catalogue, the stored table and the API.

`MetricDefinition` says how a metric is computed from events, per exposed unit. Each side of a
metric reduces one event name per unit: `any` (1 if the unit has at least one such event, else
0), `count` (number of events) or `sum` (sum of their values). A `conversion` metric counts
units with at least one numerator event (aggregation `any`); a `mean` metric averages the
per-unit `count` or `sum` of its numerator event over exposed units; a `ratio` metric divides
the numerator summed over units by the denominator summed over units and needs
`denominator_event` (its aggregation defaults to `count`). A `quantile` metric is the level
`quantile` (0 < quantile < 1; 0.5: the median order value) of the values of its numerator event
over every such event of the exposed units (a unit's several orders each count, clustered by
unit in its interval: `stats.quantiles`); it is a secondary metric or a guardrail, never the
primary. `numerator_unless` drops the numerator of units that also have that event (cart
abandonment: added to cart and did not purchase).

What the pages say about a metric lives on it too, set once per built-in metric in the catalogue
(`experiments.metrics`) and optional on a custom one: `counted_as` names what the numerator
counts, in the plural ("clicks"; default "conversions"), for the gain a fixed list's rest would
bring; `denominator_noun` what a ratio's denominator counts, in the singular ("order"; default:
the built-in word for the same denominator event, else "<event> event" for a count and
"<event> unit" otherwise); `pasted_field` the column of the counts pasted from an e-mail tool
its numerator is read from (opened, clicked, unsubscribed: a conversion metric over `sent`;
revenue: a mean metric; none: the metric needs events). A noun has 1-64 characters of storable
text.

Input contract (one place): a metric key is a slug (a-z, 0-9, `-`, `_`, 1-64 characters) that
is not a built-in key; event names are slugs. `window_hours` (0 < window_hours <= 8760, one
year) limits the events counted to that many hours after the unit's first exposure; `cap`
(0 < cap <= 1e15) caps each unit's numerator value before summing. `sources` (null: all) lists
the kinds of key whose conversions the metric counts, on every side (numerator, denominator,
`numerator_unless`): `["server"]` counts only events a shop's backend sent with its secret
server key, which no visitor can forge with the public sdk key; at least one, none twice. Names
have 1-200 characters of storable text (no NUL, no lone surrogates).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, StringConstraints, field_serializer, field_validator
from sqlalchemy import JSON, String
from sqlmodel import Field, SQLModel

from experiments.db import UTCDateTime
from experiments.inputs import MAX_MAGNITUDE, SafeText, Slug
from experiments.models.api_key import EventSource
from stats import DEFAULT_MINIMUMS
from stats.quantiles import MINIMUM_VALUES

MAX_WINDOW_HOURS = 8760.0
# Stripped first, then measured: a name of only spaces is empty, so refused (422, not a 500).
MetricName = Annotated[
    SafeText,
    StringConstraints(strip_whitespace=True),
    StringConstraints(min_length=1, max_length=200),
]
MetricKind = Literal["conversion", "mean", "ratio", "quantile"]
Direction = Literal["increase", "decrease"]
Aggregation = Literal["any", "count", "sum"]
ValueFormat = Literal["share", "money", "number"]
PastedField = Literal["opened", "clicked", "unsubscribed", "revenue"]
Noun = Annotated[
    SafeText,
    StringConstraints(strip_whitespace=True),
    StringConstraints(min_length=1, max_length=64),
]
# The pasted totals of a conversion (units with the event among `sent`) and of a mean (a sum).
_PASTED_KIND: dict[PastedField, MetricKind] = {
    "opened": "conversion",
    "clicked": "conversion",
    "unsubscribed": "conversion",
    "revenue": "mean",
}
# Which data the reading of a comparison needs, by kind (`stats.DEFAULT_MINIMUMS`).
_MINIMUM_RULE: dict[MetricKind, str] = {
    "conversion": f"at least {DEFAULT_MINIMUMS.conversions} conversions in the control and the "
    "variant together",
    "mean": f"at least {DEFAULT_MINIMUMS.units} units with a value in each variant",
    "ratio": f"at least {DEFAULT_MINIMUMS.units} units with a denominator (for AOV: with an "
    "order) in each variant",
    "quantile": f"at least {MINIMUM_VALUES} values (for the median order value: orders) in each "
    "variant",
}
# The baseline a plan assumes when the design gives none: the average shop's purchase
# conversion (PRODUCT.md) for a rate; for a mean or a ratio, the per-unit standard deviation /
# mean at that conversion with order values of coefficient of variation 1: revenue per visitor
# sqrt((1 + 1) / 0.025 - 1) = 8.9; a ratio over exposed units such as AOV, by the delta method,
# 1 / sqrt(0.025) = 6.3.
# A quantile metric is never the primary, so never planned: it takes the mean's figure.
DEFAULT_BASELINE: dict[MetricKind, float] = {
    "conversion": 0.025,
    "mean": 8.9,
    "ratio": 6.3,
    "quantile": 8.9,
}


class MetricDefinition(SQLModel):
    """How a metric is computed from events (see the module docstring); the family's base."""

    key: Slug = Field(sa_type=String(64), unique=True)
    name: MetricName = Field(sa_type=String(200))
    kind: MetricKind = Field(sa_type=String(16))
    direction: Direction = Field(default="increase", sa_type=String(16))
    numerator_event: Slug = Field(sa_type=String(64))
    numerator_aggregation: Aggregation = Field(default="any", sa_type=String(8))
    denominator_event: Slug | None = Field(default=None, sa_type=String(64))
    denominator_aggregation: Aggregation = Field(default="count", sa_type=String(8))
    numerator_unless: Slug | None = Field(default=None, sa_type=String(64))
    window_hours: float | None = Field(default=None, gt=0, le=MAX_WINDOW_HOURS)
    cap: float | None = Field(default=None, gt=0, le=MAX_MAGNITUDE)
    sources: list[EventSource] | None = Field(
        default=None, min_length=1, max_length=3, sa_type=JSON
    )
    counted_as: Noun | None = Field(default=None, sa_type=String(64))
    denominator_noun: Noun | None = Field(default=None, sa_type=String(64))
    pasted_field: PastedField | None = Field(default=None, sa_type=String(16))
    quantile: float | None = Field(default=None, gt=0, lt=1)

    @field_validator("sources")
    @classmethod
    def _each_source_once(cls, sources: list[EventSource] | None) -> list[EventSource] | None:
        if sources is not None and len(set(sources)) != len(sources):
            raise ValueError("names a source twice; list each of sdk, server, admin at most once")
        return sources

    @property
    def value_format(self) -> ValueFormat:
        """How its values read: a share of units (a rate, cart abandonment), money, or a number.

        A conversion metric, or a ratio whose both sides count units (`any`), is a share; a
        metric that sums event values (`purchase` amounts) is money.
        """
        if self.kind == "conversion":
            return "share"
        if self.kind == "quantile":
            return "money"
        if self.kind == "ratio" and self.numerator_aggregation == self.denominator_aggregation:
            return "share" if self.numerator_aggregation == "any" else "number"
        return "money" if self.numerator_aggregation == "sum" else "number"

    @property
    def minimum_rule(self) -> str:
        """What a comparison's reading needs, in words ("at least 10 conversions in ...")."""
        return _MINIMUM_RULE[self.kind]

    @property
    def default_baseline(self) -> float:
        """The baseline a plan assumes without the design's: a rate for a conversion metric,
        a coefficient of variation (standard deviation / mean per unit) otherwise."""
        return DEFAULT_BASELINE[self.kind]


class MetricCreate(MetricDefinition):
    """Body of `POST /v1/metrics`."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]


class CustomMetric(MetricDefinition, table=True):
    """A custom metric as stored."""

    __tablename__ = "metrics"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_type=UTCDateTime)


class MetricPublic(MetricDefinition):
    """A metric as the API shows it, and as the catalogue hands it to the results."""

    # Every field is in every response: the OpenAPI says so, defaults or not.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)  # type: ignore[assignment]

    builtin: bool = False

    @field_serializer("denominator_aggregation")
    def _only_with_a_denominator(self, aggregation: Aggregation) -> Aggregation | None:
        return aggregation if self.denominator_event is not None else None
