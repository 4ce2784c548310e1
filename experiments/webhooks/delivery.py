"""Sending queued deliveries: signed POSTs, retried with exponential backoff.

Every delivery is a JSON POST with these headers (docs/results.md, "Webhooks"):

- `X-Vekst-Timestamp`: Unix seconds when this attempt was signed;
- `X-Vekst-Signature`: `sha256=` + hex HMAC-SHA256, keyed with the webhook's secret, of the
  timestamp, a `.` and the raw body (so a receiver can refuse old or replayed messages);
- `X-Vekst-Event` (the alert kind) and `X-Vekst-Delivery` (the delivery id, the same on retries).

A 2xx answer delivers; anything else (or no answer) is retried after `first_delay * 2**(n-1)`
seconds up to `max_attempts` attempts, then the delivery is `failed`. Any failure counts as an
attempt, and is stored as words (`HTTP 500`, `timed out`, `connection failed`, `refused: private
address`, ... see `sender`), never as exception text. Several processes may send at once: each
delivery is claimed by a compare-and-set on its next attempt time, for longer than an attempt
can last. `deliver_due` attempts one after the other (the command line); the server's scheduler
claims with `claim_due` and runs `attempt_delivery` on a few threads of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from experiments.encryption import KeyRing, UnreadableSecretError
from experiments.errors import NotConfiguredError
from experiments.models.webhook import DeliveryStatus, Webhook, WebhookDelivery
from experiments.webhooks.sender import ATTEMPT_SECONDS, error_words

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Vekst-Signature"
TIMESTAMP_HEADER = "X-Vekst-Timestamp"
EVENT_HEADER = "X-Vekst-Event"
DELIVERY_HEADER = "X-Vekst-Delivery"
# An attempt in flight is not claimed by another process for this long: far longer than an
# attempt can last (its deadline, then one database write), so it is never sent twice at once.
CLAIM_SECONDS = 12 * ATTEMPT_SECONDS
NO_KEY = "no encryption key"  # production without VEKST_ENCRYPTION_KEYS
UNREADABLE = "cannot decrypt"  # none of the keys opens the stored URL or secret

# What became of one attempt: delivered, to be tried again, or given up after the last attempt.
DeliveryOutcome = Literal["delivered", "retrying", "failed"]
DELIVERY_OUTCOMES: tuple[DeliveryOutcome, ...] = ("delivered", "retrying", "failed")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Vekst-Signature` value of `body` sent at `timestamp` (Unix seconds, as text)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


class Sender(Protocol):
    """Posts a body to a URL and returns the HTTP status; raises when there is none."""

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> int: ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 6
    first_delay_seconds: float = 30.0

    def delay(self, attempts: int) -> timedelta:
        """Wait after the `attempts`-th failed attempt."""
        return timedelta(seconds=self.first_delay_seconds * 2 ** (attempts - 1))


def deliver_due(
    engine: Engine,
    send: Sender,
    policy: RetryPolicy,
    keys: KeyRing,
    now: datetime | None = None,
    limit: int = 100,
) -> list[DeliveryOutcome]:
    """Attempt every pending delivery whose time has come, one after the other, each claimed
    just before its attempt; returns each attempt's outcome."""
    moment = now or datetime.now(UTC)
    outcomes: list[DeliveryOutcome] = []
    for delivery_id, planned in _due(engine, moment, limit):
        if _claim(engine, delivery_id, planned, moment):
            outcome = attempt_delivery(engine, delivery_id, send, policy, keys, moment)
            if outcome is not None:
                outcomes.append(outcome)
    return outcomes


def claim_due(engine: Engine, now: datetime, limit: int) -> list[int]:
    """Claim up to `limit` due deliveries for this process; their ids, to attempt at once."""
    if limit <= 0:
        return []
    return [
        delivery_id
        for delivery_id, planned in _due(engine, now, limit)
        if _claim(engine, delivery_id, planned, now)
    ]


def _due(engine: Engine, moment: datetime, limit: int) -> list[tuple[int, datetime]]:
    with Session(engine) as session:
        due = session.exec(
            select(WebhookDelivery.id, WebhookDelivery.next_attempt_at)
            .where(
                WebhookDelivery.status == DeliveryStatus.PENDING.value,
                col(WebhookDelivery.next_attempt_at) <= moment,
            )
            .order_by(col(WebhookDelivery.id))
            .limit(limit)
        ).all()
    return [(delivery_id, planned) for delivery_id, planned in due if delivery_id is not None]


def _claim(engine: Engine, delivery_id: int, planned: datetime, now: datetime) -> bool:
    with engine.begin() as connection:
        claimed = connection.execute(
            update(WebhookDelivery)
            .where(
                col(WebhookDelivery.id) == delivery_id,
                col(WebhookDelivery.status) == DeliveryStatus.PENDING.value,
                col(WebhookDelivery.next_attempt_at) == planned,
            )
            .values(next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
        )
        return claimed.rowcount == 1


@dataclass(frozen=True, slots=True)
class _Request:
    webhook_id: int
    url: str
    body: bytes
    headers: dict[str, str]


def attempt_delivery(
    engine: Engine,
    delivery_id: int,
    send: Sender,
    policy: RetryPolicy,
    keys: KeyRing,
    now: datetime | None = None,
) -> DeliveryOutcome | None:
    """One attempt of a claimed delivery; None when it or its webhook was deleted meanwhile.

    No transaction stays open while the receiver is asked.
    """
    moment = now or datetime.now(UTC)
    status: int | None = None
    error: str | None = None
    try:
        request = _request(engine, delivery_id, keys, moment)
        if request is None:
            return None
        status = send(request.url, request.body, request.headers)
    except NotConfiguredError:
        error = NO_KEY
    except UnreadableSecretError:
        error = UNREADABLE
    except Exception as failure:  # noqa: BLE001 - any failure is one attempt, told in words
        error = error_words(failure)
    return _record(engine, delivery_id, policy, moment, status, error)


def _request(engine: Engine, delivery_id: int, keys: KeyRing, now: datetime) -> _Request | None:
    with Session(engine) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        webhook = None if delivery is None else session.get(Webhook, delivery.webhook_id)
        if delivery is None or webhook is None:
            return None
        body = delivery.body.encode()
        timestamp = str(int(now.timestamp()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(keys.open(webhook.secret), timestamp, body),
            EVENT_HEADER: delivery.event,
            DELIVERY_HEADER: str(delivery_id),
        }
        return _Request(webhook.id or 0, keys.open(webhook.url), body, headers)


def _record(
    engine: Engine,
    delivery_id: int,
    policy: RetryPolicy,
    now: datetime,
    status: int | None,
    error: str | None,
) -> DeliveryOutcome | None:
    with Session(engine) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            return None
        delivery.attempts += 1
        delivery.response_status = status
        outcome: DeliveryOutcome = "delivered"
        if status is not None and 200 <= status < 300:
            delivery.status = DeliveryStatus.DELIVERED.value
            delivery.delivered_at = now
            delivery.error = None
        else:
            delivery.error = error or f"HTTP {status}"
            if delivery.attempts >= policy.max_attempts:
                delivery.status = DeliveryStatus.FAILED.value
                outcome = "failed"
            else:
                delivery.next_attempt_at = now + policy.delay(delivery.attempts)
                outcome = "retrying"
            logger.warning(
                "webhook %s delivery %s attempt %s failed: %s",
                delivery.webhook_id,
                delivery_id,
                delivery.attempts,
                delivery.error,
            )
        session.add(delivery)
        session.commit()
        return outcome
