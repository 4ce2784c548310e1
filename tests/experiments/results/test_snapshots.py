"""Looks: the backfill of the first look, running readings that never revert, serving, stop."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from experiments import lifecycle
from experiments.db import session_scope
from experiments.metrics import metric_catalog
from experiments.models.snapshot import ResultSnapshot
from experiments.results import snapshots
from experiments.results.pipeline import compute_results
from experiments.results.render import results_page
from experiments.results.snapshots import (
    results_as_of,
    serve_results,
    stored_timeseries,
    take_snapshot,
)
from experiments.results.sums.aggregation import aggregate
from experiments.results.sums.stored_sums import stored_aggregates
from tests.experiments.results.helpers import start_experiment
from tests.experiments.results.simulation import START, simulate_shop

NOW = START + timedelta(days=7, hours=10)
PLANNED = {"planned_units_per_variant": 1500}


# The checkout template's metrics without its revenue caps and its median (a quantile metric,
# whose sums are order statistics read per look).
UNCAPPED = {
    "primary": "conversion_rate",
    "secondary": ["aov", "revenue_per_visitor", "checkout_start_rate"],
    "guardrails": ["cart_abandonment", "refund_rate"],
}


@pytest.fixture
def shop(engine: Engine) -> Iterator[Engine]:
    """A running checkout experiment with a strong effect, events over a week."""
    start_experiment(engine, design=PLANNED)
    simulate_shop(3000, uplift=2.0, seed=3).load(engine)
    yield engine


@pytest.fixture
def uncapped_shop(engine: Engine) -> Iterator[Engine]:
    """`shop` with the `UNCAPPED` metrics, for the tests of which look is taken, served or
    stored: a capped first look is backfilled one day at a time (several times slower), which
    the two backfill tests here prove; the bookkeeping of looks is the same either way."""
    start_experiment(engine, design=PLANNED, metrics=UNCAPPED)
    simulate_shop(3000, uplift=2.0, seed=3).load(engine)
    yield engine


def looks(engine: Engine) -> list[ResultSnapshot]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(ResultSnapshot)
                .where(ResultSnapshot.experiment == "exp")
                .order_by(col(ResultSnapshot.look))
            )
        )


def sequential(page: dict[str, Any], metric: str) -> dict[str, Any]:
    entry = next(m for m in page["metrics"] if m["metric"] == metric)
    return dict(entry["comparisons"][0]["sequential"])


def test_first_look_backfills_a_look_per_day_with_running_readings(shop: Engine) -> None:
    with session_scope(shop) as session:
        newest = take_snapshot(session, "exp", NOW, on_new_look=None)
    stored = looks(shop)
    # Exposures start on 2 March 08:00: midnights of 3-9 March, then now (9 March 18:00).
    assert [look.look for look in stored] == list(range(1, 9))
    assert newest.look == 8
    assert stored[0].as_of == datetime(2026, 3, 3, tzinfo=UTC)
    assert stored[-1].as_of == NOW
    own_pages = []
    for look in stored:  # each look's own readings, from a full computation at its end
        with session_scope(shop) as session:
            own_pages.append(
                results_page(compute_results(session, "exp", as_of=look.as_of, now=NOW)).as_json()
            )
    for metric in ("conversion_rate", "revenue_per_visitor", "aov", "cart_abandonment"):
        # None until a look has enough data for a reading (the minimums), then the minimum.
        running_p: float | None = None
        previous: dict[str, Any] | None = None
        for look, own_page in zip(stored, own_pages, strict=True):
            own = sequential(own_page, metric)["p_value"]
            reading = sequential(look.results, metric)
            if own is not None:
                running_p = own if running_p is None else min(running_p, own)
            if running_p is None:
                assert reading["p_value"] is None, (metric, look.look)
                continue
            assert reading["p_value"] == pytest.approx(running_p, rel=1e-9), (metric, look.look)
            # The interval reported is the look's own sequence, not an intersection.
            own_interval = sequential(own_page, metric)["absolute"]
            assert reading["absolute"] == pytest.approx(own_interval, rel=1e-9), metric
            kept = reading["intersection"]
            if previous is not None:
                assert reading["p_value"] <= previous["p_value"]
                assert previous["significant"] <= reading["significant"]
                if not reading["effect_changing"]:  # the intersection only narrows
                    assert kept["ci_low"] >= previous["intersection"]["ci_low"]
                    assert kept["ci_high"] <= previous["intersection"]["ci_high"]
            previous = reading
    # Once significant, never "keep running" again (here: ship, then blocked by the growing
    # share of units seen in both variants, a data-quality problem).
    verdicts = [look.verdict for look in stored]
    assert "ship" in verdicts
    assert "keep_running" not in verdicts[verdicts.index("ship") :]


def test_later_looks_continue_the_running_readings(uncapped_shop: Engine) -> None:
    with session_scope(uncapped_shop) as session:
        take_snapshot(session, "exp", NOW - timedelta(days=2), on_new_look=None)
    with session_scope(uncapped_shop) as session:
        before = take_snapshot(session, "exp", NOW - timedelta(days=1), on_new_look=None).results
    with session_scope(uncapped_shop) as session:
        after = take_snapshot(session, "exp", NOW, on_new_look=None).results
    assert after["look"] == before["look"] + 1
    for metric in ("conversion_rate", "revenue_per_visitor"):
        assert sequential(after, metric)["p_value"] <= sequential(before, metric)["p_value"]


def test_timeseries_reads_the_last_look_of_each_day(uncapped_shop: Engine) -> None:
    with session_scope(uncapped_shop) as session:
        take_snapshot(session, "exp", NOW - timedelta(hours=2), on_new_look=None)
    with session_scope(uncapped_shop) as session:
        take_snapshot(session, "exp", NOW, on_new_look=None)
    with session_scope(uncapped_shop) as session:
        series = stored_timeseries(session, "exp", "conversion_rate", on_new_look=None).as_json()
    stored = looks(uncapped_shop)
    assert [point["date"] for point in series["points"]] == [
        f"2026-03-0{day}" for day in range(2, 10)
    ]
    assert series["points"][-1]["look"] == stored[-1].look  # not the earlier look of that day
    by_look = {look.look: look.results for look in stored}
    for point in series["points"]:
        page_metric = next(
            m for m in by_look[point["look"]]["metrics"] if m["metric"] == "conversion_rate"
        )
        assert point["comparisons"] == page_metric["comparisons"]
    p_values = [point["comparisons"][0]["sequential"]["p_value"] for point in series["points"]]
    # No reading before the minimums are met; from then on the running p-value never rises.
    readings = [p for p in p_values if p is not None]
    assert readings and p_values[-len(readings) :] == readings
    assert readings == sorted(readings, reverse=True)


def test_serving_reuses_a_fresh_look_and_refreshes_a_stale_one(uncapped_shop: Engine) -> None:
    hour = timedelta(hours=1)
    with session_scope(uncapped_shop) as session:
        first = serve_results(session, "exp", hour, now=NOW, on_new_look=None).as_json()
    with session_scope(uncapped_shop) as session:
        again = serve_results(
            session, "exp", hour, now=NOW + timedelta(minutes=30), on_new_look=None
        ).as_json()
    assert again["look"] == first["look"]
    assert again["computed_at"] == first["computed_at"]
    with session_scope(uncapped_shop) as session:
        later = serve_results(
            session, "exp", hour, now=NOW + timedelta(minutes=61), on_new_look=None
        ).as_json()
    assert later["look"] == first["look"] + 1
    with session_scope(uncapped_shop) as session:
        forced = serve_results(
            session, "exp", hour, fresh=True, now=NOW + timedelta(minutes=62), on_new_look=None
        ).as_json()
    assert forced["look"] == later["look"] + 1
    with session_scope(uncapped_shop) as session:
        earlier = results_as_of(session, "exp", START + timedelta(days=3), now=NOW).as_json()
    assert earlier["as_of"] == (START + timedelta(days=3)).isoformat()
    assert earlier["look"] == 3  # running readings of the looks up to then (3-5 March)
    assert len(looks(uncapped_shop)) == forced["look"]  # as_of pages are not stored


def test_stopping_takes_the_final_look_once(uncapped_shop: Engine) -> None:
    with session_scope(uncapped_shop) as session:
        take_snapshot(session, "exp", NOW - timedelta(days=1), on_new_look=None)
    with session_scope(uncapped_shop) as session:
        stopped = lifecycle.stop_experiment(session, "exp")
        final = take_snapshot(session, "exp", on_new_look=None)
        assert final.as_of == stopped.stopped_at
    with session_scope(uncapped_shop) as session:
        assert take_snapshot(session, "exp", on_new_look=None).look == final.look
        page = serve_results(session, "exp", timedelta(seconds=1), on_new_look=None).as_json()
    assert page["look"] == final.look
    assert page["status"] == "stopped"


def _first_read_misses_their_look(monkeypatch: pytest.MonkeyPatch) -> None:
    """Our look reads the latest stored look before another process commits its own."""
    real = snapshots.latest_snapshot
    calls = []

    def read_before_their_commit(session: Session, key: str) -> ResultSnapshot | None:
        calls.append(key)
        return None if len(calls) == 1 else real(session, key)

    monkeypatch.setattr(snapshots, "latest_snapshot", read_before_their_commit)


def test_a_look_number_taken_meanwhile_by_a_later_look_serves_that_look(
    uncapped_shop: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope(uncapped_shop) as session:
        theirs = take_snapshot(session, "exp", NOW + timedelta(minutes=1), on_new_look=None).look
    _first_read_misses_their_look(monkeypatch)
    with session_scope(uncapped_shop) as session:
        ours = take_snapshot(session, "exp", NOW, on_new_look=None)
        assert ours.look == theirs
    assert [look.look for look in looks(uncapped_shop)] == list(range(1, theirs + 1))


def test_a_look_number_taken_meanwhile_by_an_earlier_look_is_taken_again_after_it(
    uncapped_shop: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scheduler's look that began before a request's events were committed must not be
    served as the request's fresh look (it was, and `vekst demo` once printed a look that
    missed a third of its own traffic)."""
    with session_scope(uncapped_shop) as session:
        theirs = take_snapshot(session, "exp", NOW, on_new_look=None).look
    _first_read_misses_their_look(monkeypatch)
    later = NOW + timedelta(minutes=1)
    with session_scope(uncapped_shop) as session:
        ours = take_snapshot(session, "exp", later, on_new_look=None)
        assert (ours.look, ours.as_of) == (theirs + 1, later)
    assert [look.look for look in looks(uncapped_shop)] == list(range(1, theirs + 2))


def test_backfilled_looks_of_a_capped_metric_equal_aggregate_at_each_end(engine: Engine) -> None:
    """A percentile cap moves with each look's units: every backfilled look's stored sums are
    those of `aggregate` with the same cap at that look's end (not the one-pass sums)."""
    start_experiment(
        engine,
        metrics={
            "primary": "conversion_rate",
            "secondary": ["revenue_per_visitor"],
            "cap_percentiles": {"revenue_per_visitor": 95},
        },
    )
    simulate_shop(1500, uplift=0.3, seed=11).load(engine)
    with session_scope(engine) as session:
        take_snapshot(session, "exp", NOW, on_new_look=None)
    stored = looks(engine)
    assert len(stored) > 3
    caps = set()
    with engine.connect() as connection:
        catalog_session = Session(bind=connection)
        definition = metric_catalog(catalog_session)["revenue_per_visitor"]
        for look in stored:
            expected = aggregate(
                connection,
                "exp",
                ["control", "treatment"],
                [definition],
                look.as_of,
                cap_percentiles={"revenue_per_visitor": 95},
            )
            stored_sums = stored_aggregates(look.sums)
            assert stored_sums.caps == expected.caps
            caps.add(expected.caps["revenue_per_visitor"])
            for variant in ("control", "treatment"):
                got = stored_sums.metrics["revenue_per_visitor"][variant].as_fields()
                want = expected.metrics["revenue_per_visitor"][variant].as_fields()
                assert got == pytest.approx(want, rel=1e-9, abs=1e-6), look.look
        catalog_session.close()
    assert len(caps) > 1  # the cap did move between looks


def test_a_margin_guardrail_stores_its_one_sided_bounds_and_older_looks_still_load(
    engine: Engine,
) -> None:
    """The look's page carries a margin guardrail's one-sided bounds (inside its two-sided
    interval); a look stored before them (no `margin_bounds`) still continues the running
    readings and is served."""
    metrics = {
        "primary": "conversion_rate",
        "guardrails": ["cart_abandonment", "refund_rate"],
        "guardrail_margins": {"cart_abandonment": 0.05},
    }
    start_experiment(engine, design=PLANNED, metrics=metrics)
    simulate_shop(3000, uplift=2.0, seed=3).load(engine)
    with session_scope(engine) as session:
        page = take_snapshot(session, "exp", NOW - timedelta(days=1), on_new_look=None).results
    abandonment = next(m for m in page["metrics"] if m["metric"] == "cart_abandonment")
    [comparison] = abandonment["comparisons"]
    bounds, shown = comparison["margin_bounds"], comparison["sequential"]["relative"]
    assert bounds["alternative"] == "one-sided"
    assert shown["ci_low"] < bounds["ci_low"] < bounds["ci_high"] < shown["ci_high"]
    refunds = next(m for m in page["metrics"] if m["metric"] == "refund_rate")
    assert "margin_bounds" not in refunds["comparisons"][0]
    with session_scope(engine) as session:
        for look in session.exec(select(ResultSnapshot)):
            older = {
                **look.results,
                "metrics": [_without_bounds(m) for m in look.results["metrics"]],
            }
            look.results = older
            session.add(look)
    with session_scope(engine) as session:
        after = take_snapshot(session, "exp", NOW, on_new_look=None).results
    assert after["look"] == page["look"] + 1
    assert "margin_bounds" in after["metrics"][1]["comparisons"][0]
    assert (
        sequential(after, "conversion_rate")["p_value"]
        <= sequential(page, "conversion_rate")["p_value"]
    )
    with session_scope(engine) as session:
        old = results_as_of(session, "exp", NOW - timedelta(hours=12), now=NOW).as_json()
    assert old["decision"]["verdict"]


def _without_bounds(metric: dict[str, Any]) -> dict[str, Any]:
    comparisons = [
        {key: value for key, value in comparison.items() if key != "margin_bounds"}
        for comparison in metric["comparisons"]
    ]
    return {**metric, "comparisons": comparisons}


@pytest.mark.parametrize("take", [take_snapshot, serve_results, stored_timeseries])
def test_every_way_to_take_a_look_names_who_hears_it(take: Any) -> None:
    """A caller that forgot `on_new_look` would silently queue no alerts: it is required (a
    caller that wants none passes None)."""
    parameter = inspect.signature(take).parameters["on_new_look"]
    assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
    assert parameter.default is inspect.Parameter.empty
