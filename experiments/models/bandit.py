"""Bandit experiments: their settings and the history of the weights they steered to.

Input contract (one place): `"type": "bandit"` makes an experiment a bandit (default `"ab"`);
its optional `bandit` settings are `exploration_hours` (0-2160, default 24: equal weights for at
least that long after the first exposure), `min_units_per_arm` (1-1e9, default 100: and until
every arm has that many units), `update_hours` (1-2160, default 24: new weights at most that
often, so at most hourly), `floor` (0 <= floor < 1, default 0.01: the least weight an arm keeps;
`floor` x arms must not exceed 1) and `winner_probability` (0.5 < p < 1, default 0.95: the
probability of being best that calls the leader). The rules that need the rest of the
definition (the decision metric's kind, the floor against the arms) are
`experiments.bandit_rules`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from experiments.db import UTCDateTime

ExperimentType = Literal["ab", "bandit"]
MAX_HOURS = 24 * 90


class BanditSettings(SQLModel):
    """How a bandit explores, steers and calls its leader (see the module's contract)."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    exploration_hours: float = Field(default=24.0, ge=0, le=MAX_HOURS, allow_inf_nan=False)
    min_units_per_arm: int = Field(default=100, ge=1, le=1_000_000_000)
    update_hours: float = Field(default=24.0, ge=1, le=MAX_HOURS, allow_inf_nan=False)
    floor: float = Field(default=0.01, ge=0, lt=1, allow_inf_nan=False)
    winner_probability: float = Field(default=0.95, gt=0.5, lt=1, allow_inf_nan=False)


class BanditPeriod(SQLModel, table=True):
    """One update period of a bandit: from `starts_at` its arms were served `weights` (variant
    key -> share, summing to 1), drawn with `seed` (None for the equal weights of the
    exploration, which drew nothing) by look `look`. Period 0 opens at the start; each unit
    belongs to the period of its first exposure (migration 0023_bandits)."""

    __tablename__ = "bandit_periods"
    __table_args__ = (UniqueConstraint("experiment", "period", name="uq_bandit_periods_period"),)

    id: int | None = SQLField(default=None, primary_key=True)
    experiment: str = SQLField(max_length=64)
    period: int
    starts_at: datetime = SQLField(sa_type=UTCDateTime)
    weights: dict[str, Any] = SQLField(sa_column=Column(JSON, nullable=False))
    seed: int | None = None
    look: int | None = None
