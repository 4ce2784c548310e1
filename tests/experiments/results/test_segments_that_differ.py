"""Segments that differ, wired into the looks: a mobile-only effect is found and named, an A/A
finds none, a cell found once stays reported and alerts once, and the verdict is the same with
and without dimensions (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
from rich.console import Console
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.cli.results import render_results
from experiments.db import session_scope
from experiments.models.experiment import Experiment
from experiments.models.webhook import AlertKind, WebhookDelivery
from experiments.results.page import ResultsPage
from experiments.results.pipeline import compute_results
from experiments.results.snapshots import take_snapshot
from experiments.webhooks.store import queue_look_alerts
from tests.experiments.results.helpers import start_experiment
from tests.experiments.results.simulation import START, RawEvents
from tests.experiments.webhooks.helpers import add_webhook

DAYS = 5
PLANNED = {"planned_units_per_variant": 3000}


def devices_shop(
    units: int,
    mobile_uplift: float,
    seed: int,
    experiment: str = "exp",
    variants: tuple[str, str] = ("control", "treatment"),
    start: datetime = START,
) -> RawEvents:
    """Half the units on mobile, half on desktop, 20 % purchase; the second variant changes the
    rate on mobile only. Exposures spread over `DAYS` days from `start`."""
    rng = np.random.default_rng(seed)
    raw = RawEvents()
    for index in range(units):
        unit = f"u{index}"
        variant = variants[int(rng.integers(2))]
        device = ("mobile", "desktop")[int(rng.integers(2))]
        first = start + timedelta(seconds=float(rng.uniform(0, DAYS * 86_400)))
        raw.expose(unit, variant, first, experiment, attributes={"device": device})
        lift = mobile_uplift if variant == variants[1] and device == "mobile" else 0.0
        if rng.random() < 0.2 * (1 + lift):
            raw.convert(unit, "purchase", first + timedelta(minutes=30), 500.0)
    return raw


def daily_looks(engine: Engine, *, alerts: bool = False) -> list[dict[str, object]]:
    """A look at the end of each day, one at a time (each look alerts against the one before)."""
    pages = []
    for day in range(1, DAYS + 2):
        with session_scope(engine) as session:
            handler = queue_look_alerts if alerts else None
            look = take_snapshot(session, "exp", START + timedelta(days=day), on_new_look=handler)
            pages.append(dict(look.results))
    return pages


def test_a_mobile_only_effect_is_named_once_found_and_alerts_once(engine: Engine) -> None:
    start_experiment(engine, design=PLANNED, dimensions=["device"])
    devices_shop(6000, mobile_uplift=0.6, seed=5).load(engine)
    with session_scope(engine) as session:
        add_webhook(session, "http://127.0.0.1:9/hook", events=["segment_differs"])
    pages = daily_looks(engine, alerts=True)
    final = pages[-1]
    found = final["segments_that_differ"]
    assert isinstance(found, list) and found
    mobile = next(cell for cell in found if cell["level"] == "mobile")
    assert (mobile["dimension"], mobile["variant"], mobile["rest_level"]) == (
        "device",
        "treatment",
        "desktop",
    )
    assert mobile["level_effect"] > 0.3 and abs(mobile["rest_effect"]) < 0.2
    assert mobile["p_value_adjusted"] < 0.05 and mobile["difference"]["ci_low"] > 0
    summary = str(final["summary"])
    assert "treatment: +53 % on mobile, −2.2 % on desktop" in summary
    assert "unlikely by chance" in summary
    # Found once, reported for good: the running minimum of the adjusted p-value.
    first = next(i for i, page in enumerate(pages) if page["segments_that_differ"])
    running = [
        min(c["p_value_adjusted"] for c in page["segments_that_differ"])  # type: ignore[attr-defined]
        for page in pages[first:]
    ]
    assert running == sorted(running, reverse=True)
    with Session(engine) as session:
        events = [d.event for d in session.exec(select(WebhookDelivery))]
    assert events.count(AlertKind.SEGMENT_DIFFERS.value) == 1
    # `vekst results KEY` lists them after the tables.
    console = Console(record=True, width=200)
    render_results(ResultsPage.model_validate(final), console)
    printed = console.export_text()
    assert "Segments that differ" in printed
    assert "device = mobile, treatment: +53 % against −2.2 % on desktop; difference +" in printed


def test_an_a_a_experiment_finds_no_segment(engine: Engine) -> None:
    start_experiment(engine, design=PLANNED, dimensions=["device"])
    devices_shop(3000, mobile_uplift=0.0, seed=8).load(engine)
    for page in daily_looks(engine):
        assert page["segments_that_differ"] == []
        assert "unlikely by chance" not in str(page["summary"])


def test_the_verdict_is_the_same_with_and_without_dimensions(engine: Engine) -> None:
    start_experiment(engine, design=PLANNED, dimensions=["device"])
    devices_shop(6000, mobile_uplift=0.6, seed=5).load(engine)
    end = START + timedelta(days=DAYS + 1)
    with session_scope(engine) as session:
        with_dimensions = compute_results(session, "exp", as_of=end, now=end)
    with session_scope(engine) as session:
        experiment = session.exec(select(Experiment)).one()
        experiment.dimensions = []
        session.add(experiment)
    with session_scope(engine) as session:
        without = compute_results(session, "exp", as_of=end, now=end)
    assert with_dimensions.segments_that_differ and without.segments_that_differ is None
    assert with_dimensions.decision == without.decision
    assert with_dimensions.metrics == without.metrics
    same = replace(with_dimensions, segments_that_differ=None, summary=without.summary)
    assert same == without
    assert with_dimensions.summary.startswith(without.summary)
