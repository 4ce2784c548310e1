"""The plan follows the shop: an assumed plan is re-derived once from the observed baseline after
the burn-in, stored, audited, and frozen; looks before it keep the assumed plan."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache

import numpy as np
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from experiments.audit import entity_history
from experiments.db import session_scope
from experiments.definitions import get_experiment
from experiments.metrics import builtin_metrics
from experiments.models.audit import AuditEntity
from experiments.models.experiment import Design, Experiment
from experiments.models.metric import DEFAULT_BASELINE
from experiments.models.snapshot import ResultSnapshot
from experiments.planning import plan_at
from experiments.results import snapshots
from experiments.results.pipeline import compute_results
from experiments.results.render import results_page
from experiments.results.snapshots import take_snapshot
from experiments.results.sums.aggregation import Aggregates, VariantSums
from experiments.results.sums.stored_sums import stored_aggregates
from experiments.results.verdict.replan import (
    BURN_IN_CONTROL_UNITS,
    design_as_of,
    observed_baseline,
    replanned,
)
from experiments.results.words.formatting import percent
from stats import RatioStats, sample_size
from tests.experiments.results.helpers import start_experiment
from tests.experiments.results.simulation import START, RawEvents

METRICS = builtin_metrics()
CONVERSION = METRICS["conversion_rate"]
ASSUMED = sample_size(
    mde_relative=0.1, baseline_rate=DEFAULT_BASELINE["conversion"]
).units_per_variant
BURNT_IN = START + timedelta(days=7)
# The checkout template's metrics without its revenue caps: the re-plan reads the primary
# metric only, and a capped experiment backfills its first look one day at a time (slow).
UNCAPPED = {
    "primary": "conversion_rate",
    "secondary": ["aov", "revenue_per_visitor", "checkout_start_rate"],
    "guardrails": ["cart_abandonment", "refund_rate"],
}
# The first daily look at or after the burn-in: midnight after 9 March 08:00.
REPLAN_LOOK_END = datetime(2026, 3, 10, tzinfo=UTC)
LOOK_AFTER_A_WEEK = BURNT_IN + timedelta(hours=1)


@cache
def shop_at(rate: float, units_per_arm: int, days: float, seed: int) -> RawEvents:
    """Visitors exposed evenly over `days` days from START, each buying with chance `rate`
    (built once per module for each set of arguments; tests only read it)."""
    rng = np.random.default_rng(seed)
    raw = RawEvents()
    seconds = rng.uniform(0, days * 86_400, 2 * units_per_arm)
    buys = rng.random(2 * units_per_arm) < rate
    for index, (offset, buy) in enumerate(zip(seconds, buys, strict=True)):
        unit, at = f"u{index}", START + timedelta(seconds=float(offset))
        raw.expose(unit, ("control", "treatment")[index % 2], at)
        if buy:
            raw.convert(unit, "purchase", at + timedelta(minutes=30), 650.0)
    return raw


@pytest.fixture
def half_percent_shop(engine: Engine) -> Iterator[Engine]:
    """A shop converting at 0.5 % (the design assumes 2.5 %), traffic for 7.5 days: about 140
    control conversions by the burn-in's end, so the re-plan is due at its first daily look
    (`BURN_IN_CONTROL_UNITS` is 100). The looks after 7.5 days see no new traffic; none of them
    needs any: they prove that the plan stays frozen."""
    start_experiment(engine, metrics=UNCAPPED)
    shop_at(0.005, 26_000, 7.5, seed=31).load(engine)
    yield engine


def looks(engine: Engine) -> list[ResultSnapshot]:
    with Session(engine) as session:
        query = select(ResultSnapshot).order_by(col(ResultSnapshot.look))
        return list(session.exec(query.where(ResultSnapshot.experiment == "exp")))


def replans(engine: Engine) -> list[dict[str, object]]:
    with Session(engine) as session:
        history = entity_history(session, AuditEntity.EXPERIMENT, "exp")
    return [
        {"by": entry.key_name, **{path: change.after for path, change in entry.changes.items()}}
        for entry in history
        if entry.action == "replanned"
    ]


def control_rate(look: ResultSnapshot) -> float:
    control = stored_aggregates(look.sums).metrics["conversion_rate"]["control"].totals
    return control.numerator_sum / control.n


def test_a_half_percent_shop_gets_a_plan_for_half_a_percent_after_its_first_week(
    half_percent_shop: Engine,
) -> None:
    engine = half_percent_shop
    with session_scope(engine) as session:  # day 6: still the assumed plan
        early = take_snapshot(session, "exp", START + timedelta(days=6), on_new_look=None)
    assert early.results["planned_units_per_variant"] == ASSUMED
    assert early.results["plan"]["planned_from"] == "assumption"
    assert "Planned for an assumed 2.5 %" in early.results["plan"]["text"]
    # At the 0.5 % seen so far the assumed plan detects far less than the design's 10 %.
    assert early.results["plan"]["detectable_change"] > 0.2
    with session_scope(engine) as session:
        assert get_experiment(session, "exp").design.planned_from == ("assumption")
    with session_scope(engine) as session:  # the first look past the burn-in
        take_snapshot(session, "exp", LOOK_AFTER_A_WEEK, on_new_look=None)
    stored = looks(engine)
    replanned_look = stored[-1]
    observed = control_rate(replanned_look)
    assert 0.004 < observed < 0.006
    expected = sample_size(mde_relative=0.1, baseline_rate=observed).units_per_variant
    assert expected > 4 * ASSUMED
    for look in stored:
        plan = look.results["plan"]
        if look.as_of < LOOK_AFTER_A_WEEK:
            assert (plan["planned_from"], plan["units_per_variant"]) == ("assumption", ASSUMED)
        else:
            assert (plan["planned_from"], plan["units_per_variant"]) == ("observed", expected)
            assert plan["baseline"] == pytest.approx(observed)
            # At the observed baseline the re-derived plan detects the design's change.
            assert plan["detectable_change"] == pytest.approx(0.1, rel=0.05)
            assert plan["text"].startswith(
                f"Planned for your observed {percent(observed)}: {expected:,} visitors per "
                "variant (re-planned on 2026-03-09)"
            )
    with session_scope(engine) as session:
        design = get_experiment(session, "exp").design
    assert (design.planned_from, design.planned_units_per_variant) == ("observed", expected)
    assert (design.observed_baseline, design.replanned_at) == (observed, LOOK_AFTER_A_WEEK)
    assert replans(engine) == [
        {
            "by": "vekst",
            "design.planned_units_per_variant": expected,
            "design.planned_from": "observed",
            "design.observed_baseline": observed,
            "design.replanned_at": "2026-03-09T09:00:00Z",
        }
    ]
    with session_scope(engine) as session:  # frozen for good: later looks keep it
        later = take_snapshot(session, "exp", START + timedelta(days=10), on_new_look=None)
    assert later.results["plan"]["units_per_variant"] == expected
    assert len(replans(engine)) == 1
    with session_scope(engine) as session:  # a page for an earlier moment keeps the old plan
        before = results_page(compute_results(session, "exp", as_of=START + timedelta(days=5)))
    assert before.planned_units_per_variant == ASSUMED


def test_a_backfill_re_plans_once_at_the_first_look_past_the_burn_in(
    half_percent_shop: Engine,
) -> None:
    with session_scope(half_percent_shop) as session:
        take_snapshot(session, "exp", START + timedelta(days=9, hours=1), on_new_look=None)
    sources = [look.results["plan"]["planned_from"] for look in looks(half_percent_shop)]
    first = sources.index("observed")
    assert looks(half_percent_shop)[first].as_of == REPLAN_LOOK_END
    assert set(sources[:first]) == {"assumption"} and set(sources[first:]) == {"observed"}
    assert len(replans(half_percent_shop)) == 1


def test_a_process_that_read_the_design_before_the_re_plan_does_not_re_plan_again(
    half_percent_shop: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = half_percent_shop
    with session_scope(engine) as session:
        stale = get_experiment(session, "exp").design
    with session_scope(engine) as session:
        take_snapshot(session, "exp", START + timedelta(days=9), on_new_look=None)
    theirs = replans(engine)

    def read_before_their_commit(session: Session, key: str) -> Experiment:
        experiment = get_experiment(session, key)
        experiment.design = stale  # what this process read before the other one committed
        return experiment

    monkeypatch.setattr(snapshots, "get_experiment", read_before_their_commit)
    with session_scope(engine) as session:
        ours = take_snapshot(session, "exp", START + timedelta(days=9, hours=2), on_new_look=None)
    assert ours.results["plan"]["planned_from"] == "observed"
    assert replans(engine) == theirs


def test_a_plan_given_in_the_design_is_never_re_planned(engine: Engine) -> None:
    """A 5 % shop of 4,000 visitors an arm has about 140 control conversions by day 7, so an
    assumed plan would be re-planned at this look (checked by letting `replan_due` ignore where
    the plan came from: this test then fails on "observed")."""
    start_experiment(engine, metrics=UNCAPPED, design={"planned_units_per_variant": 5000})
    shop_at(0.05, 4_000, 10, seed=32).load(engine)
    with session_scope(engine) as session:
        look = take_snapshot(session, "exp", START + timedelta(days=9), on_new_look=None)
    assert look.results["plan"]["planned_from"] == "design"
    assert look.results["planned_units_per_variant"] == 5000
    assert replans(engine) == []


def _aggregates(conversions: int, n: int = 40_000) -> Aggregates:
    totals = RatioStats(
        n=n,
        numerator_sum=conversions,
        numerator_sum_squares=conversions,
        denominator_sum=n,
        denominator_sum_squares=n,
        cross_sum=conversions,
    )
    sums = VariantSums(totals)
    return Aggregates.by_variant(
        {"control": n, "b": n}, 0, {"conversion_rate": {"control": sums, "b": sums}}
    )


def test_the_burn_in_needs_seven_days_and_the_control_data() -> None:
    design = Design(planned_from="assumption", planned_units_per_variant=ASSUMED)
    enough = _aggregates(BURN_IN_CONTROL_UNITS)
    variants = ["control", "b"]
    early = START + timedelta(days=6, hours=23)
    assert replanned(design, CONVERSION, variants, enough, START, early) is None
    thin = _aggregates(BURN_IN_CONTROL_UNITS - 1)
    assert replanned(design, CONVERSION, variants, thin, START, BURNT_IN) is None
    found = replanned(design, CONVERSION, variants, enough, START, BURNT_IN)
    assert found is not None and found.planned_from == "observed"
    assert found.planned_units_per_variant == plan_at(
        design, CONVERSION, 2, BURN_IN_CONTROL_UNITS / 40_000
    )
    for frozen in ("observed", "design", "list", None):
        fixed = design.model_copy(update={"planned_from": frozen})
        assert replanned(fixed, CONVERSION, variants, enough, START, BURNT_IN) is None
    # A page for a moment before the re-plan reads the assumed plan again.
    assert design_as_of(found, CONVERSION, 2, BURNT_IN - timedelta(seconds=1)) == design
    assert design_as_of(found, CONVERSION, 2, BURNT_IN) == found


def test_a_mean_metric_is_re_planned_on_its_coefficient_of_variation() -> None:
    rpv = METRICS["revenue_per_visitor"]
    rng = np.random.default_rng(4)
    revenue = np.where(rng.random(20_000) < 0.02, rng.lognormal(6.5, 1.0, 20_000), 0.0)
    n, total, squares = revenue.size, float(revenue.sum()), float(revenue @ revenue)
    buyers = int(np.count_nonzero(revenue))
    control = VariantSums(RatioStats(n, total, squares, n, n, total), nonzero_units=buyers)
    cv = observed_baseline(rpv, control)
    assert cv == pytest.approx(revenue.std(ddof=1) / revenue.mean())
    thin = VariantSums(control.totals, nonzero_units=BURN_IN_CONTROL_UNITS - 1)
    assert observed_baseline(rpv, thin) is None


def test_inconclusive_is_said_only_at_a_plan_sized_for_the_observed_baseline(
    engine: Engine,
) -> None:
    """An assumption of 30 % plans about 300 units an arm; a 5 % shop of 5,000 visitors an arm
    over 10 days reaches them on its first day. Before the re-plan that is no end: keep
    running. The plan re-derived at 5 % (about 2,800 an arm) is reached by day 9, and its end
    is one. (Checked by making every plan final: the early look then says inconclusive.)"""
    start_experiment(engine, metrics=UNCAPPED, design={"baseline_rate": 0.3, "mde_relative": 0.5})
    shop_at(0.05, 5_000, 10, seed=33).load(engine)
    with session_scope(engine) as session:
        early = take_snapshot(session, "exp", START + timedelta(days=3), on_new_look=None)
    page = early.results
    assert page["plan"]["planned_from"] == "assumption"
    assert min(v["n"] for v in page["metrics"][0]["variants"]) > page["planned_units_per_variant"]
    assert page["decision"]["verdict"] == "keep_running"
    assert page["decision"]["additional_units_per_variant"] is None
    assert page["summary"].endswith(page["plan"]["text"])
    with session_scope(engine) as session:
        late = take_snapshot(session, "exp", START + timedelta(days=9, hours=23), on_new_look=None)
    page = late.results
    assert page["plan"]["planned_from"] == "observed"
    assert min(v["n"] for v in page["metrics"][0]["variants"]) >= page["planned_units_per_variant"]
    assert page["decision"]["verdict"] == "inconclusive"


def test_what_a_draft_sends_as_the_plan_record_is_replaced_at_the_start(engine: Engine) -> None:
    sent = {"planned_from": "observed", "observed_baseline": 0.5, "replanned_at": START}
    start_experiment(engine, metrics=UNCAPPED, design=sent)
    with session_scope(engine) as session:
        design = get_experiment(session, "exp").design
    assert design.planned_from == "assumption"
    assert (design.planned_units_per_variant, design.observed_baseline) == (ASSUMED, None)
    assert design.replanned_at is None
