"""What the API and the lists read of an experiment: its public shape, pages of them, and the
one-line results overview beside each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import SQLModel

from experiments.models.bandit import BanditSettings, ExperimentType
from experiments.models.experiment import (
    Design,
    ExperimentStatus,
    MetricSelection,
    Variant,
)


class ResultsOverview(SQLModel):
    """An experiment's current verdict in one line, for the overview of all experiments.

    `verdict` is None for a draft (no results yet); `units` counts the units analysed in all
    variants; `days_running` is the time since the start (up to the stop).
    """

    verdict: str | None
    """What the data says (`ship`, `stop`, `keep_running`, `inconclusive`); once stopped, what
    it said at the stop."""
    variant: str | None
    units: int
    days_running: float | None
    summary: str | None
    display_state: str = "no_verdict"
    """The state to show first: once stopped, what was done (`shipped`, `kept_control`,
    `stopped_without_winner`); else `waiting_for_window` or the verdict (`no_verdict` for a
    draft, `no_look` for a started experiment before its first look)."""
    headline: str = "No verdict yet"
    """`display_state` in words: "Shipped one-page on 5 December 2026", "Keep running"."""


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
    dimensions: list[str]
    type: ExperimentType = "ab"
    bandit: BanditSettings | None = None
    sticky: bool
    sticky_version: int
    status: ExperimentStatus
    winner: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    stopped_at: datetime | None
    results: ResultsOverview | None = None


class ExperimentPage(SQLModel):
    items: list[ExperimentPublic]
    total: int
    limit: int
    offset: int


class ExperimentListed(SQLModel):
    """An experiment as a list of them shows it: its name, status and primary metric, read
    without the rest of its definition (`definitions.list_for_overview`)."""

    key: str
    name: str
    status: ExperimentStatus
    primary: str
    started_at: datetime | None
    results: ResultsOverview | None = None


class ListedPage(SQLModel):
    items: list[ExperimentListed]
    total: int
