"""The experiment entity: its table model and the API shapes (create, update, public, page).

Input contract (one place): keys and variant keys are slugs of 1-64 characters from a-z, 0-9,
`-` and `_`; 2-10 variants, the first is the control, weights are relative and > 0; traffic is
the share of units in the experiment, 0 < traffic <= 1; metric keys name known metrics;
`guardrail_margins` are relative margins 0 < m < 1 keyed by guardrails, `cap_percentiles`
percentiles 50 <= p < 100 keyed by the experiment's metrics; the design's `baseline_rate` is
0 < rate < 1 and `baseline_cv` 0 < cv <= 1000.
"""

from __future__ import annotations

import math
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from sqlalchemy import JSON, Column
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from experiments.db import UTCDateTime
from experiments.metrics import Template

SLUG_PATTERN = r"^[a-z0-9_-]{1,64}$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
UnitType = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Traffic = Annotated[float, Field(gt=0, le=1)]


class ExperimentStatus(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    STOPPED = "stopped"
    ARCHIVED = "archived"


class _Strict(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]


class Variant(_Strict):
    key: Slug
    name: Name
    weight: float = Field(gt=0)
    payload: JsonValue = None

    @field_validator("weight")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value


class Design(_Strict):
    """What the sequential test and the results' "keep running" estimate are tuned by.

    `planned_units_per_variant` is fixed when the experiment starts: when none is given it is
    `stats.sample_size` (sequential plan) for `mde_relative`, `alpha` and `power` at the
    baseline assumption: `baseline_rate` for a conversion primary metric (default 2.5 %), or
    `baseline_cv` (per-unit standard deviation / mean) for a mean or ratio one (docs/results.md).
    """

    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    power: float = Field(default=0.8, gt=0, lt=1)
    mde_relative: float = Field(default=0.10, gt=0)
    planned_units_per_variant: int | None = Field(default=None, ge=2)
    baseline_rate: float | None = Field(default=None, gt=0, lt=1)
    baseline_cv: float | None = Field(default=None, gt=0, le=1000)


Margin = Annotated[float, Field(gt=0, lt=1)]
Percentile = Annotated[float, Field(ge=50, lt=100)]


class MetricSelection(_Strict):
    """The experiment's metrics by role.

    `guardrail_margins` maps a guardrail to a relative non-inferiority margin (0.02: a loss of
    up to 2 % is tolerated); with one, the guardrail is "not harmed" only when its interval
    excludes a larger loss. `cap_percentiles` caps a metric's per-unit value at that percentile
    (50 <= p < 100) of the experiment's units with a value.
    """

    primary: str
    secondary: list[str] = Field(default_factory=list)
    guardrails: list[str] = Field(default_factory=list)
    guardrail_margins: dict[str, Margin] = Field(default_factory=dict)
    cap_percentiles: dict[str, Percentile] = Field(default_factory=dict)

    def all_keys(self) -> list[str]:
        return [self.primary, *self.secondary, *self.guardrails]

    @field_validator("guardrail_margins")
    @classmethod
    def _margins_belong_to_guardrails(
        cls, margins: dict[str, float], info: ValidationInfo
    ) -> dict[str, float]:
        guardrails = info.data.get("guardrails", [])
        for key in margins:
            if key not in guardrails:
                raise ValueError(f"'{key}' is not one of the guardrails; a margin belongs to one")
        return margins

    @field_validator("cap_percentiles")
    @classmethod
    def _caps_belong_to_metrics(
        cls, percentiles: dict[str, float], info: ValidationInfo
    ) -> dict[str, float]:
        selected = [
            info.data.get("primary"),
            *info.data.get("secondary", []),
            *info.data.get("guardrails", []),
        ]
        for key in percentiles:
            if key not in selected:
                raise ValueError(f"'{key}' is not a metric of this experiment")
        return percentiles


Variants = Annotated[list[Variant], Field(min_length=2, max_length=10)]
Overrides = dict[Annotated[str, StringConstraints(min_length=1, max_length=256)], Slug]


class ExperimentCreate(_Strict):
    key: Slug
    name: Name
    hypothesis: str = Field(default="", max_length=5000)
    template: Template | None = None
    unit_type: UnitType | None = None
    variants: Variants
    traffic: Traffic = 1.0
    targeting: dict[str, Any] | None = None
    layer: Slug | None = None
    overrides: Overrides = Field(default_factory=dict)
    design: Design = Field(default_factory=Design)
    metrics: MetricSelection | None = None


class ExperimentUpdate(_Strict):
    """A partial update: only the fields sent change."""

    name: Name | None = None
    hypothesis: str | None = Field(default=None, max_length=5000)
    unit_type: UnitType | None = None
    variants: Variants | None = None
    traffic: Traffic | None = None
    targeting: dict[str, Any] | None = None
    layer: Slug | None = None
    overrides: Overrides | None = None
    design: Design | None = None
    metrics: MetricSelection | None = None


class StopRequest(_Strict):
    winner: Slug | None = None


class Experiment(SQLModel, table=True):
    __tablename__ = "experiments"

    id: int | None = SQLField(default=None, primary_key=True)
    key: str = SQLField(max_length=64, unique=True)
    salt: str = SQLField(max_length=32)
    name: str = SQLField(max_length=200)
    hypothesis: str = ""
    unit_type: str = SQLField(max_length=32)
    variants: list[dict[str, Any]] = SQLField(sa_column=Column(JSON, nullable=False))
    traffic: float = 1.0
    targeting: dict[str, Any] | None = SQLField(default=None, sa_column=Column(JSON))
    layer: str | None = SQLField(default=None, max_length=64, index=True)
    layer_ranges: list[list[int]] = SQLField(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    overrides: dict[str, str] = SQLField(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    design: dict[str, Any] = SQLField(sa_column=Column(JSON, nullable=False))
    metrics: dict[str, Any] = SQLField(sa_column=Column(JSON, nullable=False))
    status: str = SQLField(default=ExperimentStatus.DRAFT.value, max_length=16, index=True)
    winner: str | None = SQLField(default=None, max_length=64)
    created_at: datetime = SQLField(sa_type=UTCDateTime)
    updated_at: datetime = SQLField(sa_type=UTCDateTime)
    started_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime)
    stopped_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime)

    def variant_keys(self) -> list[str]:
        return [str(variant["key"]) for variant in self.variants]


class ExperimentPublic(SQLModel):
    key: str
    name: str
    hypothesis: str
    unit_type: str
    variants: list[Variant]
    traffic: float
    targeting: dict[str, Any] | None
    layer: str | None
    overrides: dict[str, str]
    design: Design
    metrics: MetricSelection
    status: ExperimentStatus
    winner: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    stopped_at: datetime | None


class ExperimentPage(SQLModel):
    items: list[ExperimentPublic]
    total: int
    limit: int
    offset: int
