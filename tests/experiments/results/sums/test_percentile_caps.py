"""A capped experiment's first look backfills in the one pass the days whose percentile caps cap
nothing, and loads the others alone; every day equals `aggregate` with the caps at its end, on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from experiments.db import session_scope
from experiments.definitions import get_experiment
from experiments.results.look_inputs import look_inputs
from experiments.results.snapshots import take_snapshot
from experiments.results.sums import look_sums
from experiments.results.sums.aggregation import aggregate
from experiments.results.sums.percentile_caps import caps_change_nothing
from experiments.results.sums.stored_sums import stored_aggregates
from tests.experiments.results.helpers import start_experiment
from tests.experiments.results.simulation import START, RawEvents, simulate_shop
from tests.experiments.results.sums.test_incremental import assert_same
from tests.experiments.results.test_look_kinds import SELECTION, VARIANTS
from tests.experiments.results.test_snapshots import looks

END = START + timedelta(days=6)


def test_caps_change_nothing_when_each_is_at_or_above_what_it_caps() -> None:
    assert caps_change_nothing({"aov": 500.0}, {"aov": 500.0})
    assert caps_change_nothing({"aov": None}, {"aov": 7.0})  # no value yet: no cap
    assert caps_change_nothing({"aov": 500.0}, {"aov": None})
    assert not caps_change_nothing({"aov": 500.0, "rpv": 9.0}, {"aov": 10.0, "rpv": 9.5})


def first_look(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """Take the first look at END; return the ends of the days loaded alone."""
    alone: list[datetime] = []
    read_sums = look_sums.read_sums

    def recorded(session: Session, inputs: Any, end: datetime, *rest: Any) -> Any:
        alone.append(end)
        return read_sums(session, inputs, end, *rest)

    monkeypatch.setattr(look_sums, "read_sums", recorded)
    with session_scope(engine) as session:
        take_snapshot(session, "exp", END, on_new_look=None)
    return alone


def assert_each_day_is_aggregated(engine: Engine, percentiles: dict[str, float]) -> None:
    stored = looks(engine)
    assert len(stored) == 7
    with Session(engine) as session:
        experiment = get_experiment(session, "exp")
        metrics = look_inputs(session, experiment).definitions
        for look in stored:
            expected = aggregate(
                session.connection(),
                "exp",
                VARIANTS,
                metrics,
                look.as_of,
                cap_percentiles=percentiles,
                dimensions=experiment.dimensions,
            )
            got = stored_aggregates(look.sums)
            assert got.caps == expected.caps, look.as_of
            assert_same(got, expected)


def test_days_whose_caps_cap_nothing_are_backfilled(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the 99th percentile of fewer than 100 buyers each cap is the largest order, so it caps
    no order after exposure; but CUPED's covariate is capped too, and a day on which a unit's
    pre-period order is above the cap is loaded alone (the simulated shop's first days have
    one), as is every day after a unit with a pre-period order above every cap is exposed."""
    percentiles = {"aov": 99.0, "revenue_per_visitor": 99.0}
    start_experiment(engine, metrics=SELECTION | {"cap_percentiles": percentiles})
    simulate_shop(300, uplift=0.2, seed=3).load(engine)
    whale = RawEvents()
    exposed = START + timedelta(days=4, hours=2)
    whale.convert("whale", "purchase", exposed - timedelta(days=2), 9_000_000.0)
    whale.expose("whale", "control", exposed)
    for row in [*whale.exposures, *whale.conversions]:
        row["event_id"] = f"whale-{row['event_id']}"
    whale.load(engine)
    alone = first_look(engine, monkeypatch)
    ends = [look.as_of for look in looks(engine)]
    assert [end for end in ends if end >= exposed] == [end for end in alone if end >= exposed]
    assert 0 < len([end for end in alone if end < exposed]) < 4  # some days backfilled
    assert_each_day_is_aggregated(engine, percentiles)


def test_days_whose_caps_cut_orders_are_loaded_alone(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the 95th percentile of dozens of buyers the cap cuts the largest orders: those days
    are loaded alone, and each still equals the aggregation with its own caps."""
    percentiles = {"aov": 95.0}
    start_experiment(engine, metrics=SELECTION | {"cap_percentiles": percentiles})
    simulate_shop(1500, uplift=0.2, seed=5).load(engine)
    alone = first_look(engine, monkeypatch)
    assert alone
    assert_each_day_is_aggregated(engine, percentiles)
