"""Delivery attempts: every failure is one attempt stored as words, and a hung receiver holds
up neither the looks, nor the other deliveries, nor a stopping process (findings 2 and 14)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from experiments.db import make_engine, session_scope
from experiments.errors import InvalidInputError
from experiments.models.webhook import DeliveryStatus, Webhook, WebhookDelivery
from experiments.scheduling import Scheduler
from experiments.settings import load_settings
from experiments.webhooks.delivery import RetryPolicy, deliver_due
from experiments.webhooks.sender import HttpSender
from experiments.webhooks.store import delete_webhook
from experiments.webhooks.targets import TargetPolicy
from tests.experiments.results.helpers import start_experiment
from tests.experiments.results.simulation import START, simulate_shop
from tests.experiments.test_scheduling import Heard
from tests.experiments.webhooks.helpers import (
    LOCAL_TARGETS,
    TEST_KEY,
    add_webhook,
    fixed_keys,
    queue_delivery,
)
from tests.experiments.webhooks.receivers import hang, no_content, running

TWO_ATTEMPTS = RetryPolicy(max_attempts=2, first_delay_seconds=0.001)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    built = make_engine(database_url)
    yield built
    built.dispose()


def stored(engine: Engine, delivery_id: int) -> WebhookDelivery:
    with Session(engine) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        assert delivery is not None
        return delivery


def test_any_failure_of_the_sender_is_an_attempt_stored_as_words(engine: Engine) -> None:
    with session_scope(engine) as session:
        hook = add_webhook(session, "http://127.0.0.1:9/services/T/B/SECRET")
    now = datetime.now(UTC)
    delivery_id = queue_delivery(engine, hook.id, now)

    def broken(url: str, body: bytes, headers: Mapping[str, str]) -> int:
        raise RuntimeError(f"unexpected trouble with {url}")

    assert deliver_due(engine, broken, TWO_ATTEMPTS, fixed_keys(), now) == ["retrying"]
    assert stored(engine, delivery_id).error == "attempt failed"
    later = now + timedelta(seconds=1)
    assert deliver_due(engine, broken, TWO_ATTEMPTS, fixed_keys(), later) == ["failed"]
    assert stored(engine, delivery_id).status == DeliveryStatus.FAILED.value


def test_a_bad_url_stored_before_the_rules_ends_failed_instead_of_pending_forever(
    engine: Engine,
) -> None:
    """`http://[zz]/` passed the old validation; httpx refuses it with InvalidURL."""
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        webhook = Webhook(
            url=fixed_keys().seal("http://[zz]/"),
            url_shown="…",
            events=["verdict_changed"],
            secret=fixed_keys().seal("s" * 32),
            created_at=now,
        )
        session.add(webhook)
        session.flush()
        webhook_id = webhook.id or 0
    delivery_id = queue_delivery(engine, webhook_id, now)
    send = HttpSender(LOCAL_TARGETS)
    assert deliver_due(engine, send, TWO_ATTEMPTS, fixed_keys(), now) == ["retrying"]
    later = now + timedelta(seconds=1)
    assert deliver_due(engine, send, TWO_ATTEMPTS, fixed_keys(), later) == ["failed"]
    delivery = stored(engine, delivery_id)
    assert (delivery.attempts, delivery.error) == (2, "invalid URL")


def test_a_hung_receiver_delays_no_look_no_other_delivery_and_no_stop(engine: Engine) -> None:
    start_experiment(engine, design={"planned_units_per_variant": 1500})
    simulate_shop(400, uplift=0.0, seed=1).load(engine)
    now = START + timedelta(days=3)
    settings = load_settings(
        database_url="sqlite://", snapshot_interval_minutes=60, encryption_keys=TEST_KEY
    )
    heard = Heard()
    scheduler = Scheduler(engine, settings, heard, HttpSender(LOCAL_TARGETS, deadline_seconds=30))
    with running(hang) as silent, running(no_content) as answering:
        with session_scope(engine) as session:
            silent_hook = add_webhook(session, silent.url())
            answering_hook = add_webhook(session, answering.url())
        stuck = queue_delivery(engine, silent_hook.id, now)
        queue_delivery(engine, answering_hook.id, now)
        scheduler.run_once(now)
        deadline = time.monotonic() + 10
        while not (heard.deliveries and silent.requests) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert heard.deliveries == ["delivered"]  # while the silent one is still under way
        assert len(silent.requests) == 1

        started = time.monotonic()
        scheduler.run_once(now + timedelta(hours=1))  # the next scheduled look
        assert time.monotonic() - started < 10
        assert len(heard.looks) == 2

        started = time.monotonic()
        scheduler.close(wait_seconds=0.5)
        assert time.monotonic() - started < 1.5
    assert stored(engine, stuck).status == DeliveryStatus.PENDING.value  # claimed, retried later


def test_webhook_and_delivery_ids_are_never_given_again(engine: Engine) -> None:
    with session_scope(engine) as session:
        first = add_webhook(session, "http://127.0.0.1:9/a")
        newest = add_webhook(session, "http://127.0.0.1:9/b")
    now = datetime.now(UTC)
    older, latest = queue_delivery(engine, first.id, now), queue_delivery(engine, first.id, now)
    with session_scope(engine) as session:
        delete_webhook(session, newest.id)
        session.delete(session.get(WebhookDelivery, latest))
    with session_scope(engine) as session:
        again = add_webhook(session, "http://127.0.0.1:9/c")
    assert again.id > newest.id > first.id
    assert queue_delivery(engine, first.id, now) > latest > older
    with Session(engine) as session:
        assert [w.id for w in session.exec(select(Webhook))] == [first.id, again.id]


def test_without_the_setting_a_local_receiver_is_refused_at_creation_and_at_send(
    engine: Engine,
) -> None:
    refusing = TargetPolicy()  # VEKST_WEBHOOK_ALLOW_PRIVATE_TARGETS unset
    with running(no_content) as receiver:
        with session_scope(engine) as session, pytest.raises(InvalidInputError) as refused:
            add_webhook(session, receiver.url(), targets=refusing)
        assert refused.value.field == "url"
        # Stored while allowed (or before these rules); sent after the setting was turned off.
        with session_scope(engine) as session:
            hook = add_webhook(session, receiver.url())
        now = datetime.now(UTC)
        delivery_id = queue_delivery(engine, hook.id, now)
        send = HttpSender(refusing)
        assert deliver_due(engine, send, TWO_ATTEMPTS, fixed_keys(), now) == ["retrying"]
        assert receiver.requests == []
    assert stored(engine, delivery_id).error == "refused: private address"
