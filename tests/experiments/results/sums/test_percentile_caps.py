"""A capped experiment's first look takes every day's sums from the one pass, and on the days whose
percentile caps cap a value aggregates the capped metrics again at that day's caps; every day
equals `aggregate` with the caps at its end, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
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
from experiments.results.sums.groups import ZERO_SUMS, Aggregates, GroupKey, GroupSums
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
    """Take the first look at END; return the ends of the days whose capped metrics were
    aggregated again (none is loaded alone: the two passes count the same units)."""
    recapped: list[datetime] = []
    again = look_sums._recapped

    def recorded(connection: Any, inputs: Any, backfilled: Any, end: datetime, *rest: Any) -> Any:
        recapped.append(end)
        return again(connection, inputs, backfilled, end, *rest)

    def never(*_: Any) -> Any:
        raise AssertionError("a day of the first look was loaded alone")

    monkeypatch.setattr(look_sums, "_recapped", recorded)
    monkeypatch.setattr(look_sums, "read_sums", never)
    with session_scope(engine) as session:
        take_snapshot(session, "exp", END, on_new_look=None)
    return recapped


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
    pre-period order is above the cap aggregates its capped metrics again (the simulated shop's
    first days have one), as does every day after a unit with a pre-period order above every cap
    is exposed."""
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
    recapped = first_look(engine, monkeypatch)
    ends = [look.as_of for look in looks(engine)]
    assert [end for end in ends if end >= exposed] == [end for end in recapped if end >= exposed]
    assert 0 < len([end for end in recapped if end < exposed]) < 4  # some days as they are
    assert_each_day_is_aggregated(engine, percentiles)


def test_days_whose_caps_cut_orders_aggregate_their_capped_metrics_again(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the 95th percentile of dozens of buyers the cap cuts the largest orders: those days
    aggregate the capped metric again, and each still equals the aggregation with its own caps
    (the other metrics' sums from the one pass)."""
    percentiles = {"aov": 95.0}
    start_experiment(engine, metrics=SELECTION | {"cap_percentiles": percentiles})
    simulate_shop(1500, uplift=0.2, seed=5).load(engine)
    assert first_look(engine, monkeypatch)
    assert_each_day_is_aggregated(engine, percentiles)


def test_the_sums_of_capped_metrics_replace_the_one_pass_s_only_where_the_units_agree() -> None:
    """`Aggregates.with_sums_of`: the capped metric's sums replace the one pass's, the others
    and their order stay; where the groups or their units differ there is nothing to merge,
    and the day is loaded alone."""
    capped = replace(ZERO_SUMS, nonzero_units=3)
    control, mobile = (
        GroupKey(variant="control"),
        GroupKey(variant="control", dimension="device", level="mobile"),
    )
    whole = {"conversion_rate": ZERO_SUMS, "aov": ZERO_SUMS, "revenue": ZERO_SUMS}
    one_pass = Aggregates(
        {control: GroupSums(units=10, metrics=whole)},
        multi_variant_units=1,
        segments={mobile: GroupSums(units=4, metrics=whole)},
    )
    again = Aggregates(
        {control: GroupSums(units=10, metrics={"aov": capped})},
        multi_variant_units=1,
        segments={mobile: GroupSums(units=4, metrics={"aov": capped})},
    )
    merged = one_pass.with_sums_of(again)
    assert merged is not None
    for group in (merged.groups[control], merged.segments[mobile]):
        assert list(group.metrics) == ["conversion_rate", "aov", "revenue"]
        assert group.metrics["aov"] is capped and group.metrics["revenue"] is ZERO_SUMS
    fewer_units = replace(again, groups={control: GroupSums(units=9, metrics={"aov": capped})})
    assert one_pass.with_sums_of(fewer_units) is None
    assert one_pass.with_sums_of(replace(again, segments={})) is None
    assert one_pass.with_sums_of(replace(again, multi_variant_units=2)) is None
