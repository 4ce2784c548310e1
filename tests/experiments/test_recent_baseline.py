"""The plan at creation sized from the shop's recent data: the measured baseline and CUPED
reduction equal a direct computation on the raw units, and without enough data there is none
(the plan keeps the design's numbers). Both databases."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from api.pages.workspace.plan_view import plan_view
from api.pages.workspace.traffic import MeasuredBaselines
from experiments.db import make_engine, session_scope
from experiments.metrics import builtin_metrics
from experiments.models.event import Conversion, Exposure
from experiments.models.experiment import Design
from experiments.planning import plan_at, planned_units
from experiments.recent_baseline import (
    LEAST_UNITS,
    RecentBaseline,
    plan_with_recent,
    recent_baseline,
)

METRICS = builtin_metrics()
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
UNITS = 1200


def _store(
    url: str, seed: int, now: datetime = NOW
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Units exposed in the last 14 days with purchases in each week (a unit's propensity
    carries over, so the weeks correlate), plus rows the measurement must leave out. Returns
    per unit: recent purchases, prior purchases, recent revenue, prior revenue."""
    rng = np.random.default_rng(seed)
    propensity = rng.gamma(0.5, 0.4, UNITS)
    counts = rng.poisson(np.repeat(propensity[:, None], 2, axis=1))  # [prior, recent]
    revenue = np.zeros((UNITS, 2))
    rows: list[Exposure | Conversion] = []
    for unit in range(UNITS):
        seen = now - timedelta(days=float(rng.uniform(0.01, 13.9)))
        rows.append(
            Exposure(
                event_id=f"x{unit}",
                experiment="any",
                variant="a",
                unit_id=f"u{unit}",
                timestamp=seen,
                received_at=seen,
            )
        )
        for week in (0, 1):
            for n in range(int(counts[unit, week])):
                days = rng.uniform(7.01, 13.99) if week == 0 else rng.uniform(0.01, 6.99)
                value = round(float(rng.lognormal(3, 0.5)), 2)
                revenue[unit, week] += value
                at = now - timedelta(days=float(days))
                rows.append(
                    Conversion(
                        event_id=f"c{unit}-{week}-{n}",
                        name="purchase",
                        unit_id=f"u{unit}",
                        value=value,
                        timestamp=at,
                        received_at=at,
                    )
                )
    old = now - timedelta(days=20)
    rows += [  # left out: too old, another event, a unit never exposed, an exposure too old
        Conversion(
            event_id="old", name="purchase", unit_id="u0", value=5.0, timestamp=old, received_at=old
        ),
        Conversion(
            event_id="other",
            name="signup",
            unit_id="u1",
            timestamp=now - timedelta(1),
            received_at=now,
        ),
        Conversion(
            event_id="stranger",
            name="purchase",
            unit_id="nobody",
            value=9.0,
            timestamp=now - timedelta(1),
            received_at=now,
        ),
        Exposure(
            event_id="x-old",
            experiment="any",
            variant="a",
            unit_id="gone",
            timestamp=old,
            received_at=old,
        ),
    ]
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            session.add_all(rows)
    finally:
        engine.dispose()
    return counts[:, 1], counts[:, 0], revenue[:, 1], revenue[:, 0]


def _measure(url: str, key: str) -> RecentBaseline | None:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            return recent_baseline(session, METRICS[key], NOW)
    finally:
        engine.dispose()


def test_the_measured_baseline_and_reduction_are_the_raw_units_own(database_url: str) -> None:
    recent, prior, recent_value, prior_value = _store(database_url, seed=7)
    converted, converted_before = (recent > 0).astype(float), (prior > 0).astype(float)
    rate = _measure(database_url, "conversion_rate")
    assert rate is not None and rate.units == UNITS
    assert rate.baseline == pytest.approx(converted.mean(), abs=1e-9)
    rho = np.corrcoef(converted, converted_before)[0, 1]
    assert rate.variance_reduction == pytest.approx(rho**2, abs=1e-9)
    assert 0.02 < rate.variance_reduction < 0.9  # the weeks correlate

    mean = _measure(database_url, "revenue_per_visitor")
    assert mean is not None
    assert mean.baseline == pytest.approx(recent_value.std(ddof=1) / recent_value.mean(), abs=1e-9)
    rho = np.corrcoef(recent_value, prior_value)[0, 1]
    assert mean.variance_reduction == pytest.approx(rho**2, abs=1e-9)
    assert _measure(database_url, "aov") is None  # a ratio keeps the design's baseline


def test_without_enough_recent_data_there_is_no_measurement(database_url: str) -> None:
    assert _measure(database_url, "conversion_rate") is None
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            session.add_all(
                Exposure(
                    event_id=f"x{unit}",
                    experiment="any",
                    variant="a",
                    unit_id=f"u{unit}",
                    timestamp=NOW,
                    received_at=NOW,
                )
                for unit in range(LEAST_UNITS - 1)
            )
    finally:
        engine.dispose()
    assert _measure(database_url, "conversion_rate") is None


def test_the_plan_is_sized_at_the_measured_baseline_and_says_so() -> None:
    measured = RecentBaseline(baseline=0.031, variance_reduction=0.18, units=5000)
    metric = METRICS["conversion_rate"]
    plan = plan_with_recent(Design(), metric, 2, measured)
    expected = plan_at(Design(), metric, 2, 0.031)
    assert plan is not None and expected is not None
    assert plan.units_per_variant == expected
    assert plan.cuped_units_per_variant == math.ceil(expected * 0.82)
    # A baseline the design gives is kept; a size the design fixes is kept whole.
    given = plan_with_recent(Design(baseline_rate=0.05), metric, 2, measured)
    assert given is not None and given.units_per_variant == plan_at(Design(), metric, 2, 0.05)
    assert plan_with_recent(Design(planned_units_per_variant=900), metric, 2, measured) is None

    view = plan_view({}, metric, 2, "", 1000.0, "", measured, True)
    assert (
        view.sentence is not None and view.cuped_units_per_variant == plan.cuped_units_per_variant
    )
    assert "sized from the last 14 days of your data: baseline 3.1 %" in view.sentence
    assert "CUPED should remove about 18 % of the variance" in view.sentence
    assert view.days == math.ceil(plan.cuped_units_per_variant * 2 / 1000.0)

    fallback = plan_view({}, metric, 2, "", 1000.0, "", None, True)
    assert fallback.sentence is not None and fallback.cuped_units_per_variant is None
    assert "sized at the design's numbers: too little data in the last 14 days" in fallback.sentence
    assert fallback.units_per_variant == planned_units(Design(), metric, 2)


def test_a_process_keeps_each_metric_s_measurement(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        kept, fresh = MeasuredBaselines(engine, kept=3600), MeasuredBaselines(engine, kept=0)
        assert kept.of(METRICS["conversion_rate"]) is None  # no data: kept as None
        _store(sqlite_url, seed=3, now=datetime.now(UTC))
        assert kept.of(METRICS["conversion_rate"]) is None  # the kept one, not measured again
        assert fresh.of(METRICS["conversion_rate"]) is not None
    finally:
        engine.dispose()
