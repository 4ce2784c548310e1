"""The "done when" of holdouts, seeded and small: a 5 % holdout created in March reports in June
what the shipped winners added, with an interval, and its split is 5 % within sampling error.

Units are drawn into the groups by the contract's hash (`murmur3_32("holdout:" + salt + ":" +
unit_id)` against `floor(share * 2**32)`, docs/experiments.md), the two groups log their holdout
exposures, and the measurement group buys more (the shipped winners' effect). The figures are
checked against numpy and scipy on the raw simulated data.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from scipy import stats as scipy_stats
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.cli.demo import demo_experiment
from experiments import holdouts, lifecycle
from experiments.db import make_engine, session_scope
from experiments.definitions import create_experiment
from experiments.models.experiment import ExperimentCreate
from experiments.models.holdout import HoldoutCreate
from experiments.results.holdout_looks import serve_holdout_results, take_holdout_look
from experiments.results.holdout_page import HoldoutResultsPage
from experiments.sdk_config import build_sdk_config
from tests.experiments.results.simulation import RawEvents
from vekst_sdk import AssignmentReason, Client
from vekst_sdk.spec import murmur3_32

MARCH = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
JUNE = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
UNITS = 40_000
SHARE = 0.05
RATE, LIFT, ORDER = 0.30, 1.25, 650.0  # the winners together lift purchases by 25 %
SALT = "5b1e07c9a2d4f803"
SHIPPED = {"checkout-onepage": "one-page", "cta-green": "one-page", "free-shipping": "one-page"}


def group_of(salt: str, unit: str) -> str | None:
    """The contract's holdout groups (contracts.md / docs/experiments.md, "Holdouts")."""
    threshold = math.floor(SHARE * 4294967296)
    hashed = murmur3_32(f"holdout:{salt}:{unit}")
    if hashed < threshold:
        return "holdout"
    return "measurement" if hashed < 2 * threshold else None


def simulate(salt: str, seed: int) -> tuple[RawEvents, dict[str, list[float]], int]:
    """Every unit's first visit between March and June; the two groups' exposures and orders
    (revenue per unit by group, to check against); and the units held out."""
    rng = np.random.default_rng(seed)
    revenue: dict[str, list[float]] = {"holdout": [], "measurement": []}
    raw, held = RawEvents(), 0
    span = (JUNE - MARCH).total_seconds() - 86_400
    for index in range(UNITS):
        unit = f"visitor-{index}"
        group = group_of(salt, unit)
        held += group == "holdout"
        if group is None:
            continue
        first = MARCH + timedelta(seconds=3600 + float(rng.uniform(0, span)))
        raw.expose(unit, group, first, experiment="spring-holdout")
        rate = RATE * (LIFT if group == "measurement" else 1.0)
        value = 0.0
        if rng.random() < rate:
            value = round(float(rng.lognormal(math.log(ORDER), 0.5)), 2)
            raw.convert(unit, "purchase", first + timedelta(minutes=20), value)
        revenue[group].append(value)
    return raw, revenue, held


def run_experiments(session: Session) -> None:
    """Four experiments started after the holdout: three ship a winner, one keeps its control,
    and one still runs."""
    for key in [*SHIPPED, "kept-control", "still-running"]:
        create_experiment(session, ExperimentCreate.model_validate(demo_experiment(key)))
        started = lifecycle.start_experiment(session, key)
        started.started_at = MARCH + timedelta(days=3)
    for month, (key, winner) in enumerate([*SHIPPED.items(), ("kept-control", "multi-step")]):
        stopped = lifecycle.stop_experiment(session, key, winner)
        stopped.stopped_at = MARCH + timedelta(days=30 * (month + 1) - 10)


def february_traffic(engine: Engine) -> None:
    """The two weeks before the holdout: the shop's pace (about 440 new units a day), from
    which the holdout's power and plan are sized at its creation."""
    raw = RawEvents()
    per_day = UNITS / (JUNE - MARCH).days
    for index in range(int(per_day * 14)):
        raw.expose(f"winter-{index}", "control", MARCH - timedelta(seconds=90 * index + 60))
    for row in raw.exposures:
        row["event_id"] = f"winter-{row['event_id']}"
    raw.load(engine)


@pytest.fixture
def june(
    sqlite_url: str,
) -> Iterator[tuple[Engine, HoldoutResultsPage, dict[str, list[float]], int]]:
    engine = make_engine(sqlite_url)
    february_traffic(engine)
    with session_scope(engine) as session:
        data = HoldoutCreate(
            key="spring-holdout",
            name="Spring holdout",
            share=SHARE,
            experiments="all_new",
            ends_at=datetime(2026, 6, 30, tzinfo=UTC),
        )
        holdout = holdouts.create_holdout(session, data, now=MARCH)
        holdout.salt = SALT  # seeded like the rest: the groups are the same in every run
        session.add(holdout)
        salt = holdout.salt
        run_experiments(session)
    raw, revenue, held = simulate(salt, seed=29)
    raw.load(engine)
    with session_scope(engine) as session:
        take_holdout_look(session, "spring-holdout", MARCH + timedelta(days=3))  # a March look
        page = serve_holdout_results(session, "spring-holdout", timedelta(0), now=JUNE)
    yield engine, page, revenue, held
    engine.dispose()


def test_a_june_look_reports_what_the_shipped_winners_added(
    june: tuple[Engine, HoldoutResultsPage, dict[str, list[float]], int],
) -> None:
    _, page, revenue, _ = june
    assert sorted(page.shipped) == sorted(SHIPPED)
    assert page.summary.startswith("The 3 experiments shipped since March added +")
    assert "(95 % CI +" in page.summary
    assert page.effect is not None and page.effect.ci_low is not None
    assert page.effect.ci_high is not None and page.effect.estimate is not None
    # The winners' true effect on revenue per visitor is +25 %: inside the interval, above 0.
    assert 0 < page.effect.ci_low < LIFT - 1 < page.effect.ci_high
    # The groups' revenue per visitor is the raw data's.
    values = {v.key: v.value for v in page.look.metrics[0].variants}
    for group in ("holdout", "measurement"):
        assert values[group] == pytest.approx(float(np.mean(revenue[group])), rel=1e-9)
    measured = np.mean(revenue["measurement"]) / np.mean(revenue["holdout"]) - 1
    assert page.effect.estimate == pytest.approx(measured, abs=0.02)
    assert page.look.look is not None and page.look.look > 1  # served from stored looks
    assert page.look.summary == page.summary and page.metric == "revenue_per_visitor"


def test_the_split_is_the_share_within_sampling_error(
    june: tuple[Engine, HoldoutResultsPage, dict[str, list[float]], int],
) -> None:
    engine, page, revenue, held = june
    # The holdout is 5 % of all units (a binomial test on the contract's hash) ...
    assert scipy_stats.binomtest(held, UNITS, SHARE).pvalue > 0.01
    # ... and the sample ratio check of the two groups is scipy's chi-square test.
    counts = [len(revenue["holdout"]), len(revenue["measurement"])]
    assert (page.units.holdout, page.units.measurement) == tuple(counts)
    assert page.srm.p_value == pytest.approx(scipy_stats.chisquare(counts).pvalue, rel=1e-6)
    assert not page.srm.mismatch and "as drawn (sample ratio check p = " in page.summary
    # The SDKs hold out these units on every covered experiment while the holdout runs.
    with session_scope(engine) as session:
        served = build_sdk_config(session, now=JUNE).document["holdouts"]
        assert served[0]["experiments"] == sorted([*SHIPPED, "kept-control", "still-running"])
        ended = build_sdk_config(session, now=datetime(2026, 7, 1, tzinfo=UTC)).document
        assert "holdouts" not in ended


def test_held_out_units_never_see_a_variant_of_a_covered_experiment(
    june: tuple[Engine, HoldoutResultsPage, dict[str, list[float]], int],
) -> None:
    """Through the Python SDK on the config served in June: every held-out unit gets the control
    of every covered experiment (shipped winners included) with reason `holdout` and no exposure
    for it; the measurement group and everyone else are served as usual."""
    engine = june[0]
    with session_scope(engine) as session:
        document = build_sdk_config(session, now=JUNE).document
        salt = holdouts.get_holdout(session, "spring-holdout").salt
    covered = [*SHIPPED, "kept-control", "still-running"]
    controls = {e["key"]: e["variants"][0]["key"] for e in document["experiments"]}
    seen: dict[str | None, set[AssignmentReason]] = {}
    with Client.from_config(document) as client:
        for index in range(4000):
            unit = f"visitor-{index}"
            group = group_of(salt, unit)
            for key in covered:
                assignment = client.assign(key, unit)
                seen.setdefault(group, set()).add(assignment.reason)
                if group == "holdout":
                    assert assignment.variant == controls[key] and not assignment.in_experiment
                elif key in SHIPPED:  # everyone else gets the shipped winner
                    assert assignment.variant == SHIPPED[key]
    assert seen["holdout"] == {AssignmentReason.HOLDOUT}
    assert AssignmentReason.HOLDOUT not in seen["measurement"] | seen[None]
    assert {AssignmentReason.WINNER, AssignmentReason.SPLIT} <= seen[None]
