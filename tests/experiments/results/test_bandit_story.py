"""The issue's "Done when", seeded and small: a four-banner bandit started on the Monday of
Black Week, a day of visitors at a time served the weights of the config in force, a look each
night. By Wednesday most traffic goes to the best banner; by Friday the page calls it with its
probability and the clicks gained over an equal split."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from rich.console import Console
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from api.cli.results import render_results
from experiments import definitions, lifecycle
from experiments.db import make_engine, session_scope
from experiments.models.audit import AuditEntry
from experiments.models.bandit import BanditPeriod
from experiments.models.experiment import ExperimentCreate
from experiments.results.page import ResultsPage
from experiments.results.snapshots import stored_page, take_snapshot
from experiments.sdk_config import build_sdk_config
from tests.experiments.results.simulation import RawEvents
from vekst_sdk import AssignmentReason, Client, ClientOptions, MemoryStickyStore

MONDAY = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Black Week 2026: Black Friday is the 27th
BANNERS = {"banner-a": "Banner A", "banner-b": "Banner B", "banner-c": "Banner C"}
BANNERS |= {"banner-d": "Banner D"}
CLICK_RATES = {"banner-a": 0.03, "banner-b": 0.03, "banner-c": 0.06, "banner-d": 0.03}
VISITORS_PER_DAY = 4000
KEY = "black-week-banner"


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    built = make_engine(sqlite_url)
    yield built
    built.dispose()


def start_bandit(engine: Engine) -> None:
    variants = [{"key": key, "name": name, "weight": 1} for key, name in BANNERS.items()]
    body = {"key": KEY, "name": "Black Week banner", "template": "cta", "variants": variants}
    with session_scope(engine) as session:
        bandit = ExperimentCreate.model_validate(body | {"type": "bandit"})
        definitions.create_experiment(session, bandit)
        experiment = lifecycle.start_experiment(session, KEY)
        experiment.started_at = MONDAY
        session.add(experiment)
        first = session.exec(select(BanditPeriod).where(BanditPeriod.experiment == KEY)).one()
        first.starts_at = MONDAY
        session.add(first)


def weights_in_force(engine: Engine) -> dict[str, float]:
    with session_scope(engine) as session:
        variants = definitions.get_experiment(session, KEY).variants
    return {str(v["key"]): float(v["weight"]) for v in variants}


def serve_a_day(engine: Engine, day: int, rng: np.random.Generator) -> None:
    """A day of new visitors, each served a banner by the weights in force, some clicking."""
    weights = weights_in_force(engine)
    keys = list(weights)
    shares = np.array([weights[key] for key in keys]) / sum(weights.values())
    served = rng.choice(len(keys), size=VISITORS_PER_DAY, p=shares)
    # Monday's first visitor comes at the start; later days' from two minutes past the night's
    # look (which opened the day's update period).
    seconds = np.sort(rng.uniform(120, 86_400, size=VISITORS_PER_DAY))
    if day == 0:
        seconds[0] = 0.0
    events = RawEvents()
    for index, (arm, second) in enumerate(zip(served, seconds, strict=True)):
        unit, banner = f"d{day}-{index}", keys[arm]
        at = MONDAY + timedelta(days=day, seconds=float(second))
        events.expose(unit, banner, at, experiment=KEY)
        if rng.random() < CLICK_RATES[banner]:
            events.convert(unit, "cta_click", at + timedelta(seconds=30))
    for row in (*events.exposures, *events.conversions):
        row["event_id"] = f"d{day}-{row['event_id']}"
    events.load(engine)


def look_after(engine: Engine, day: int) -> ResultsPage:
    night = MONDAY + timedelta(days=day + 1, minutes=1)
    with session_scope(engine) as session:
        return stored_page(take_snapshot(session, KEY, night, on_new_look=None))


def sdk_client(engine: Engine, store: MemoryStickyStore | None) -> Client:
    """A Python SDK client on the config document the server serves now (no events sent)."""
    with session_scope(engine) as session:
        document = build_sdk_config(session).document
    return Client.from_config(document, options=ClientOptions(sticky_store=store))


def test_black_week_banner_bandit(engine: Engine) -> None:
    start_bandit(engine)
    rng = np.random.default_rng(2026)
    store = MemoryStickyStore()
    mondays = [f"monday-{index}" for index in range(400)]
    with sdk_client(engine, store) as monday:  # equal weights, each first arm remembered
        seen = {unit: monday.assign(KEY, unit).variant for unit in mondays}
    pages, served = [], []
    for day in range(4):  # Monday to Thursday, a look after each night
        serve_a_day(engine, day, rng)
        pages.append(look_after(engine, day))
        served.append(weights_in_force(engine))
    tuesday, wednesday, thursday, friday = pages
    # Monday's look ends the exploration (24 hours and 100 units per arm): new weights.
    assert tuesday.bandit is not None and tuesday.bandit.updated
    assert tuesday.bandit.history[0].seed is None  # Monday: equal weights, nothing drawn
    # By Wednesday most of the traffic goes to the best banner (top-two Thompson sampling gives
    # a sure leader LEADER_SHARE, 0.6, the rest to the runner-up draws, each arm at least the
    # floor).
    weights = served[1]  # the config from Wednesday's first minutes
    assert wednesday.bandit is not None and wednesday.bandit.weights == pytest.approx(weights)
    assert max(weights, key=weights.__getitem__) == "banner-c"
    assert weights["banner-c"] > 0.5
    assert all(weight >= 0.01 for weight in weights.values())  # the floor
    # Monday's visitors still see Monday's banner (sticky, the bandit's default); the new
    # weights decide for new visitors only. Without the store many would have moved.
    with sdk_client(engine, store) as later, sdk_client(engine, None) as forgetful:
        again = [later.assign(KEY, unit) for unit in mondays]
        moved = sum(forgetful.assign(KEY, unit).variant != seen[unit] for unit in mondays)
        newcomers = [later.assign(KEY, f"thursday-{index}").variant for index in range(2000)]
    assert all(a.variant == seen[a_unit] for a, a_unit in zip(again, mondays, strict=True))
    assert {a.reason for a in again} == {AssignmentReason.STICKY}
    # (how many move depends on the experiment's random salt; with the leader's weight past
    # 0.4, about a quarter to a third of the ranges change hands)
    assert moved > len(mondays) / 10
    assert newcomers.count("banner-c") / len(newcomers) == pytest.approx(
        served[-1]["banner-c"] / sum(served[-1].values()), abs=0.04
    )
    # By Friday the page calls the winner, with its probability and the clicks gained.
    bandit = friday.bandit
    assert bandit is not None and bandit.called and bandit.leader == "banner-c"
    chances = {arm: chance or 0.0 for arm, chance in bandit.probability_best.items()}
    assert chances["banner-c"] >= 0.95
    assert sum(chances.values()) == pytest.approx(1.0)
    assert friday.decision.verdict == "ship" and friday.decision.variant == "banner-c"
    assert bandit.gain is not None and bandit.gain.extra > 0
    assert bandit.gain.text.endswith("clicks over an equal split")
    assert friday.summary.startswith("Banner C leads with a ")
    assert "% probability of being best; +" in friday.summary
    assert any("biased by changing weights" in warning for warning in friday.warnings)
    # Each period's units are checked against that period's weights: no false alarm.
    assert [period.period for period in bandit.history] == [0, 1, 2, 3, 4]
    assert all(p.srm_p_value is None or p.srm_p_value > 0.001 for p in bandit.history)
    assert not friday.srm.mismatch
    # Every change of weights is on the audit log, made by Vekst itself.
    with session_scope(engine) as session:
        steered = session.exec(
            select(AuditEntry)
            .where(AuditEntry.entity_key == KEY, AuditEntry.action == "bandit_weights")
            .order_by(col(AuditEntry.id))
        ).all()
    assert len(steered) == 4 and {entry.key_name for entry in steered} == {"vekst"}
    # `vekst results` prints the arms, their probabilities and the weights over the periods.
    console = Console(record=True, width=200)
    render_results(friday, console)
    printed = console.export_text()
    assert "Bandit arms (cta_click_rate)" in printed and "P(best)" in printed
    assert "weight Mon 23 Nov 01:00" in printed and "biased by changing weights" in printed
