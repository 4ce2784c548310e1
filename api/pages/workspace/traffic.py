"""The shop's measured traffic for the live plan, kept in the process between pages.

Measuring it counts the distinct units of the last 14 days of exposures
(`planning.visitors_per_day`), a scan of those rows: 0.2 to 0.5 s per 100,000 exposures
(docs/benchmarks.md). The plan needs no fresher figure than a quarter of an hour, so a process
measures once, keeps the figure `KEPT`, and then measures again in a background thread while
pages go on reading the kept one: only the first page after a start waits. While there are no
exposures (None) nothing is kept, so the first exposures show on the next page.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from experiments.db import session_scope
from experiments.holdout_power import Traffic
from experiments.metrics import metric_catalog
from experiments.models.holdout import Holdout
from experiments.models.metric import MetricDefinition
from experiments.planning import visitors_per_day
from experiments.recent_baseline import RecentBaseline, recent_baseline

KEPT = 15 * 60.0  # seconds


class MeasuredTraffic:
    def __init__(self, engine: Engine, kept: float = KEPT) -> None:
        self._engine = engine
        self._kept = kept
        self._lock = threading.Lock()
        self._value: float | None = None
        self._measured_at: float | None = None
        self._refreshing = False

    def visitors_per_day(self) -> float | None:
        """The kept figure; measured now when there is none, in the background once stale."""
        with self._lock:
            measured_at, refreshing = self._measured_at, self._refreshing
            stale = measured_at is not None and time.monotonic() - measured_at > self._kept
            if stale and not refreshing:
                self._refreshing = True
        if measured_at is None:
            self._measure()
        elif stale and not refreshing:
            threading.Thread(target=self._measure, name="traffic", daemon=True).start()
        return self._value

    def _measure(self) -> None:
        try:
            with session_scope(self._engine) as session:
                value = visitors_per_day(session, datetime.now(UTC))
        finally:
            with self._lock:
                self._refreshing = False
        with self._lock:
            self._value = value
            self._measured_at = time.monotonic() if value is not None else None


class MeasuredBaselines:
    """The primary metrics' recent baselines and CUPED reductions (`recent_baseline`), kept per
    metric for `KEPT` seconds: one bounded query per metric and quarter of an hour, measured on
    the page that first asks (about 0.1 to 0.2 s per 100,000 units, docs/benchmarks.md). A
    metric without enough recent data is kept too (None): the plan then says so."""

    def __init__(self, engine: Engine, kept: float = KEPT) -> None:
        self._engine = engine
        self._kept = kept
        self._lock = threading.Lock()
        self._kept_values: dict[str, tuple[float, RecentBaseline | None]] = {}

    def of(self, primary: MetricDefinition) -> RecentBaseline | None:
        """The kept measurement of `primary`, measured now when missing or stale."""
        with self._lock:
            kept = self._kept_values.get(primary.key)
        if kept is not None and time.monotonic() - kept[0] <= self._kept:
            return kept[1]
        with session_scope(self._engine) as session:
            value = recent_baseline(session, primary, datetime.now(UTC))
        with self._lock:
            self._kept_values[primary.key] = (time.monotonic(), value)
        return value


def kept_traffic(state: Any, session: Session, holdout: Holdout) -> Traffic:
    """The shop's pace and a holdout's first metric's baseline as the process keeps them
    (`state`: the app's, holding `measured_traffic` and `measured_baselines`)."""
    measured: MeasuredTraffic = state.measured_traffic
    baselines: MeasuredBaselines = state.measured_baselines
    primary = metric_catalog(session)[holdout.metrics[0]]
    return Traffic(measured.visitors_per_day(), baselines.of(primary))
