"""The holdout entity: its table model and the API shapes (create, public, power).

Input contract (one place): the key is an experiment-style slug (`ExperimentKey`) that no
experiment bears (holdout and experiment keys share one namespace); `share` is the share of
units held out, 0.01 <= share <= 0.10, and an equal share is sampled into the measurement
group; `experiments` is `"all_new"` (every experiment of the holdout's unit type started after
the holdout was created) or a list of 1-200 distinct keys of existing experiments of that unit
type; `metrics` are 1-20 distinct known metric keys, the first the one the summary names;
`ends_at` is a moment with a timezone after now (and before the year 9000); `unit_type` as an
experiment's (default `visitor`). Names have 1-200 characters of storable text.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field
from sqlalchemy import JSON, Column
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from experiments.db import UTCDateTime
from experiments.inputs import Moment, Slug, path_rule_error
from experiments.models.experiment import ExperimentKey, Name, UnitType

MIN_SHARE = 0.01
MAX_SHARE = 0.10
MAX_COVERED = 200
MAX_METRICS = 20
ALL_NEW = "all_new"
HOLDOUT_GROUP = "holdout"
MEASUREMENT_GROUP = "measurement"
GROUPS = (HOLDOUT_GROUP, MEASUREMENT_GROUP)
"""The two groups a holdout's exposures name as their variant; the holdout is the baseline."""
DEFAULT_METRICS = ("revenue_per_visitor", "conversion_rate")


def _distinct(keys: list[str]) -> list[str]:
    for index, key in enumerate(keys):
        if key in keys[:index]:
            raise path_rule_error(f"[{index}]", f"'{key}' is named twice")
    return keys


CoveredKeys = Annotated[
    list[Slug], Field(min_length=1, max_length=MAX_COVERED), AfterValidator(_distinct)
]
MetricKeys = Annotated[
    list[Slug], Field(min_length=1, max_length=MAX_METRICS), AfterValidator(_distinct)
]
Share = Annotated[float, Field(ge=MIN_SHARE, le=MAX_SHARE, allow_inf_nan=False)]


class HoldoutStatus(StrEnum):
    RUNNING = "running"
    ENDED = "ended"
    """Past `ends_at`: served to no SDK, its looks count up to `ends_at`."""
    STOPPED = "stopped"


class HoldoutCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    key: ExperimentKey
    name: Name
    share: Share
    experiments: Literal["all_new"] | CoveredKeys
    metrics: MetricKeys = Field(default_factory=lambda: list(DEFAULT_METRICS))
    ends_at: Moment
    unit_type: UnitType = "visitor"


class Holdout(SQLModel, table=True):
    __tablename__ = "holdouts"

    id: int | None = SQLField(default=None, primary_key=True)
    key: str = SQLField(max_length=64, unique=True)
    salt: str = SQLField(max_length=32)
    name: str = SQLField(max_length=200)
    share: float
    unit_type: str = SQLField(max_length=32)
    # "all_new", or the list of covered experiment keys as sent.
    experiments: Any = SQLField(sa_column=Column(JSON, nullable=False))
    metrics: list[str] = SQLField(sa_column=Column(JSON, nullable=False))
    ends_at: datetime = SQLField(sa_type=UTCDateTime)
    status: str = SQLField(default=HoldoutStatus.RUNNING.value, max_length=16, index=True)
    planned_units_per_group: int | None = None
    """The units each group was expected to reach by `ends_at` at creation: what the
    sequential readings of its looks are tuned to."""
    created_at: datetime = SQLField(sa_type=UTCDateTime)
    updated_at: datetime = SQLField(sa_type=UTCDateTime)
    stopped_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime)


class HoldoutPower(SQLModel):
    """What the share can detect by `ends_at` at the shop's recent traffic."""

    metric: str
    """The first of the holdout's metrics."""
    visitors_per_day: float | None
    """New units a day over the last 14 days (None: no traffic yet)."""
    days: float
    """Days from the moment of the estimate to `ends_at`."""
    units_per_group: int | None
    """Units the holdout and the measurement group each reach by `ends_at`."""
    baseline: float
    """The metric's rate, or its coefficient of variation for a mean."""
    baseline_from: Literal["recent", "assumed"]
    """`recent`: measured on the last 14 days; `assumed`: the metric's default."""
    detectable_change: float | None
    """The smallest relative change detected with 80 % power at alpha 0.05."""
    text: str


class HoldoutPublic(SQLModel):
    key: str
    name: str
    share: float
    unit_type: str
    experiments: Literal["all_new"] | list[str]
    covered: list[str]
    """The experiments the holdout covers now (`all_new` resolved)."""
    metrics: list[str]
    ends_at: datetime
    status: HoldoutStatus
    created_at: datetime
    updated_at: datetime
    stopped_at: datetime | None
    power: HoldoutPower | None = None
    """At creation: what the share can detect by `ends_at`."""


class HoldoutPage(SQLModel):
    items: list[HoldoutPublic]
    total: int
