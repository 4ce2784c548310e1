"""Stored looks say how they were taken: the first look, a look after a definition change, the
guard and the stop are full ones; a look after an hour of traffic is incremental and stores the
same sums as a full aggregation."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from experiments.db import session_scope
from experiments.definitions import get_experiment
from experiments.lifecycle import stop_experiment
from experiments.models.pasted_counts import CountsCreate
from experiments.models.snapshot import ResultSnapshot
from experiments.pasted_counts import attach_counts
from experiments.results.look_inputs import look_inputs
from experiments.results.snapshots import take_snapshot
from experiments.results.sums.aggregation import aggregate
from experiments.results.sums.look_basis import LookBasis
from experiments.results.sums.stored_sums import stored_aggregates
from tests.experiments.results.helpers import start_experiment
from tests.experiments.results.simulation import START, RawEvents, simulate_shop
from tests.experiments.results.sums.test_incremental import assert_same

VARIANTS = ["control", "treatment"]
SELECTION = {
    "primary": "conversion_rate",
    "secondary": ["aov", "revenue_per_visitor", "cart_abandonment"],
    "guardrails": [],
}


def look(engine: Engine, hours: float) -> ResultSnapshot:
    with session_scope(engine) as session:
        taken = take_snapshot(session, "exp", START + timedelta(hours=hours), on_new_look=None)
        session.expunge(taken)
    return taken


def kind_of(snapshot: ResultSnapshot) -> tuple[str, str | None]:
    page = snapshot.results["look_kind"]
    assert page == snapshot.sums["look_kind"]
    return page["kind"], page["reason"]


def assert_sums_of_a_full_look(engine: Engine, snapshot: ResultSnapshot) -> None:
    basis = LookBasis.stored(snapshot.sums)
    assert basis is not None
    with Session(engine) as session:
        experiment = get_experiment(session, "exp")
        inputs = look_inputs(session, experiment)
        expected = aggregate(
            session.connection(),
            "exp",
            VARIANTS,
            inputs.definitions,
            basis.end,
            dimensions=experiment.dimensions,
            ceiling=basis.mark.ceiling,
        )
    assert_same(stored_aggregates(snapshot.sums), expected)


def test_looks_say_whether_they_were_incremental_or_full(engine: Engine) -> None:
    start_experiment(engine, metrics=SELECTION, dimensions=["device"])
    simulate_shop(300, uplift=0.2, seed=3).load(engine)
    first = look(engine, 5 * 24)
    assert kind_of(first) == ("full", "first_look")
    # An hour of traffic: new units, a late purchase and a late earlier exposure of old ones.
    hour = RawEvents()
    for index in range(20):
        at = START + timedelta(hours=5 * 24 + 0.5)
        hour.expose(f"n{index}", VARIANTS[index % 2], at, attributes={"device": "mobile"})
        hour.convert(f"n{index}", "purchase", at + timedelta(minutes=1), 300.0)
    hour.convert("u1", "purchase", START + timedelta(hours=30), 120.0)
    hour.expose("u2", "treatment", START - timedelta(hours=1), attributes={"device": "tv"})
    for row in [*hour.exposures, *hour.conversions]:
        row["event_id"] = f"hour-{row['event_id']}"
    hour.load(engine)
    second = look(engine, 5 * 24 + 1)
    assert kind_of(second) == ("incremental", None)
    assert second.results["look_kind"]["units_read"] >= 21
    assert_sums_of_a_full_look(engine, second)
    # The guard: a day after the last full look. A purchase stored before it but dated after its
    # end (a clock ahead) is counted by the next look.
    ahead = RawEvents()
    ahead.convert("u3", "purchase", START + timedelta(hours=6 * 24 + 1, minutes=3), 80.0)
    ahead.conversions[0]["event_id"] = "ahead"
    ahead.load(engine)
    assert kind_of(look(engine, 6 * 24 + 1)) == ("full", "guard")
    after_guard = look(engine, 6 * 24 + 2)
    assert kind_of(after_guard) == ("incremental", None)
    assert_sums_of_a_full_look(engine, after_guard)
    with session_scope(engine) as session:
        experiment = get_experiment(session, "exp")
        experiment.dimensions = ["device", "market"]
        session.add(experiment)
    assert kind_of(look(engine, 6 * 24 + 3)) == ("full", "definitions_changed")
    with session_scope(engine) as session:
        stop_experiment(session, "exp")
    assert kind_of(look(engine, 6 * 24 + 4))[1] == "stopped"


def test_a_look_on_pasted_counts_is_a_full_one(engine: Engine) -> None:
    """Pasted totals have no units to update: the look after a paste reads them whole, and the
    look after that one has no mark to start from."""
    start_experiment(engine, metrics={"primary": "newsletter_click_rate"}, template="newsletter")
    simulate_shop(50, uplift=0.0, seed=4).load(engine)
    assert kind_of(look(engine, 24)) == ("full", "first_look")
    counts = CountsCreate.model_validate(
        {
            "variants": [
                {"key": "control", "sent": 5000, "clicked": 150},
                {"key": "treatment", "sent": 5000, "clicked": 210},
            ]
        }
    )
    with session_scope(engine) as session:
        attach_counts(session, "exp", counts, START + timedelta(hours=25))
    pasted = look(engine, 26)
    assert kind_of(pasted) == ("full", "pasted_counts")
    assert "basis" not in pasted.sums
    assert kind_of(look(engine, 27)) == ("full", "pasted_counts")


def test_a_capped_experiment_s_look_is_incremental_while_its_caps_stay(engine: Engine) -> None:
    """A percentile cap that has not moved caps every unit as the stored sums did, so the look
    after it starts from them; a cap that moved (a new largest order) makes a full look, and the
    look after that one is incremental again. Each stores a full aggregation's sums."""
    percentiles = {"aov": 99.0, "revenue_per_visitor": 99.0}
    start_experiment(engine, metrics=SELECTION | {"cap_percentiles": percentiles})
    simulate_shop(300, uplift=0.2, seed=3).load(engine)
    first = look(engine, 5 * 24)
    assert kind_of(first) == ("full", "first_look")
    caps = stored_aggregates(first.sums).caps
    # Fewer than 100 buyers: each cap is the largest value, which orders of 50 do not move.
    assert all(cap is not None and cap > 50.0 for cap in caps.values())

    def hour_of_traffic(prefix: str, hours: float, value: float) -> None:
        traffic = RawEvents()
        at = START + timedelta(hours=hours)
        for index in range(10):
            unit = f"{prefix}{index}"
            traffic.expose(unit, VARIANTS[index % 2], at)
            traffic.convert(unit, "purchase", at + timedelta(minutes=1), value)
        # A pre-period order above every cap: CUPED's covariate is capped too, and the
        # percentile is of the orders after exposure only, so it does not move the cap.
        traffic.convert(f"{prefix}0", "purchase", at - timedelta(days=1), 5_000_000.0)
        for row in [*traffic.exposures, *traffic.conversions]:
            row["event_id"] = f"{prefix}-{row['event_id']}"
        traffic.load(engine)

    def assert_full_sums(snapshot: ResultSnapshot) -> None:
        basis = LookBasis.stored(snapshot.sums)
        assert basis is not None
        with Session(engine) as session:
            experiment = get_experiment(session, "exp")
            expected = aggregate(
                session.connection(),
                "exp",
                VARIANTS,
                look_inputs(session, experiment).definitions,
                basis.end,
                cap_percentiles=percentiles,
                dimensions=experiment.dimensions,
                ceiling=basis.mark.ceiling,
            )
        stored = stored_aggregates(snapshot.sums)
        assert stored.caps == expected.caps
        assert_same(stored, expected)

    hour_of_traffic("small", 5 * 24 + 0.5, 50.0)
    kept = look(engine, 5 * 24 + 1)
    assert kind_of(kept) == ("incremental", None)
    assert stored_aggregates(kept.sums).caps == caps
    assert_full_sums(kept)
    hour_of_traffic("large", 5 * 24 + 1.5, 1_000_000.0)
    moved = look(engine, 5 * 24 + 2)
    assert kind_of(moved) == ("full", "percentile_caps")
    assert stored_aggregates(moved.sums).caps == dict.fromkeys(percentiles, 1_000_000.0)
    assert_full_sums(moved)
    hour_of_traffic("again", 5 * 24 + 2.5, 50.0)
    again = look(engine, 5 * 24 + 3)
    assert kind_of(again) == ("incremental", None)
    assert_full_sums(again)
