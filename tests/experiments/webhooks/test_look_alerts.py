"""A new look handed to the webhooks: its alerts queued per subscribed webhook, in the look's
transaction, once per look; and the body a delivery carries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from experiments import lifecycle
from experiments.db import make_engine, session_scope
from experiments.models.snapshot import ResultSnapshot
from experiments.models.webhook import AlertKind, WebhookDelivery
from experiments.results.alerts import Alert, NewLook
from experiments.results.snapshots import take_snapshot
from experiments.webhooks.store import message, queue_look_alerts
from tests.experiments.results.helpers import start_experiment
from tests.experiments.results.pages import a_metric, a_page
from tests.experiments.results.simulation import START, simulate_shop
from tests.experiments.webhooks.helpers import add_webhook

NOW = START + timedelta(days=7, hours=10)
KEEP_RUNNING_AT = NOW - timedelta(days=6)
SHIP_AT = NOW - timedelta(days=4)


def shop_at(url: str) -> Iterator[Engine]:
    """A running checkout experiment with a strong effect: it keeps running on its first day
    and ships two days later."""
    engine = make_engine(url)
    start_experiment(engine, design={"planned_units_per_variant": 1500})
    simulate_shop(3000, uplift=2.0, seed=3).load(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def shop(database_url: str) -> Iterator[Engine]:
    yield from shop_at(database_url)


@pytest.fixture
def postgres_shop(postgres_url: str) -> Iterator[Engine]:
    yield from shop_at(postgres_url)


def deliveries(engine: Engine) -> list[WebhookDelivery]:
    with Session(engine) as session:
        return list(session.exec(select(WebhookDelivery)))


def test_a_changed_verdict_queues_a_delivery_per_subscribed_webhook(shop: Engine) -> None:
    with session_scope(shop) as session:
        for events in (["verdict_changed"], ["srm_detected"]):
            add_webhook(session, "http://127.0.0.1:9/hook", events)
    with session_scope(shop) as session:
        take_snapshot(session, "exp", KEEP_RUNNING_AT, on_new_look=queue_look_alerts)
    assert deliveries(shop) == []
    with session_scope(shop) as session:
        take_snapshot(session, "exp", SHIP_AT, on_new_look=queue_look_alerts)
    queued = deliveries(shop)
    assert [(d.event, d.webhook_id, d.status) for d in queued] == [
        ("verdict_changed", 1, "pending")
    ]
    assert "keep running to ship" in queued[0].body


def test_the_deliveries_are_committed_with_the_look_or_not_at_all(postgres_shop: Engine) -> None:
    """PostgreSQL only: on SQLite the driver commits the looks when their savepoint is released
    (it opens no transaction before the first write), so a failure after the look keeps the
    look and loses its deliveries, as it did before the look and the webhooks were parted."""
    shop = postgres_shop
    with session_scope(shop) as session:
        add_webhook(session, "http://127.0.0.1:9/hook")
    with pytest.raises(RuntimeError), session_scope(shop) as session:
        take_snapshot(session, "exp", SHIP_AT, on_new_look=queue_look_alerts)
        assert len(list(session.exec(select(WebhookDelivery)))) == 1
        raise RuntimeError("the request failed after the look")
    assert deliveries(shop) == []
    with Session(shop) as session:
        assert list(session.exec(select(ResultSnapshot))) == []


def test_only_a_look_stored_now_is_handed_over_with_the_facts_before_it(shop: Engine) -> None:
    heard: list[NewLook] = []

    def hear(_session: Session, new_look: NewLook) -> None:
        heard.append(new_look)

    with session_scope(shop) as session:
        backfilled = take_snapshot(session, "exp", KEEP_RUNNING_AT, on_new_look=hear)
        shipped = take_snapshot(session, "exp", SHIP_AT, on_new_look=hear)
        lifecycle.stop_experiment(session, "exp", "treatment")
        final = take_snapshot(session, "exp", on_new_look=hear)
        assert take_snapshot(session, "exp", on_new_look=hear) is final  # served, not taken
    assert [new_look.look for new_look in heard] == [backfilled, shipped, final]
    first, second, _ = heard
    assert first.previous is None and first.alerts() == []
    assert second.previous is not None and second.previous.verdict == "keep_running"
    assert [alert.kind for alert in second.alerts()] == [AlertKind.VERDICT_CHANGED]


def test_a_stopped_experiments_message_leads_with_what_was_done() -> None:
    summary = "Shipped one-page on 5 December 2026. At the stop the data said: Keep running."
    outcome = {"stopped_at": "2026-12-05T10:00:00+00:00", "winner": "one-page"}
    decision = {"verdict": "keep_running", "variant": None, "reason": "", "outcome": outcome}
    page = a_page(
        [a_metric({"multi-step": 900, "one-page": 910}, [])],
        experiment="checkout",
        look=3,
        computed_at="2026-12-05T10:00:00+00:00",
        as_of="2026-12-05T10:00:00+00:00",
        decision=decision,
        summary=summary,
    ).as_json()
    body = json.loads(message(page, Alert(AlertKind.VERDICT_CHANGED, "The verdict changed.")))
    assert body["display_state"] == "shipped"
    assert body["state"] == "Shipped one-page on 5 December 2026"
    assert body["verdict"] == "keep_running"
    assert body["text"].startswith("Vekst, experiment checkout (look 3): Shipped one-page on 5 ")
