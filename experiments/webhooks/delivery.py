"""Sending queued deliveries: signed POSTs, retried with exponential backoff.

Every delivery is a JSON POST with these headers (docs/results.md, "Webhooks"):

- `X-Vekst-Timestamp`: Unix seconds when this attempt was signed;
- `X-Vekst-Signature`: `sha256=` + hex HMAC-SHA256, keyed with the webhook's secret, of the
  timestamp, a `.` and the raw body (so a receiver can refuse old or replayed messages);
- `X-Vekst-Event` (the alert kind) and `X-Vekst-Delivery` (the delivery id, the same on retries).

A 2xx answer delivers; anything else (or no answer) is retried after `first_delay * 2**(n-1)`
seconds up to `max_attempts` attempts, then the delivery is `failed`. Several processes may run
`deliver_due` at once: each delivery is claimed by a compare-and-set on its next attempt time.
`deliver_due` returns the outcome of each attempt it made (the server counts them as metrics).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

import httpx
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from experiments.models.webhook import DeliveryStatus, Webhook, WebhookDelivery

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Vekst-Signature"
TIMESTAMP_HEADER = "X-Vekst-Timestamp"
EVENT_HEADER = "X-Vekst-Event"
DELIVERY_HEADER = "X-Vekst-Delivery"
_CLAIM_SECONDS = 120  # an attempt in flight is not claimed by another process for this long
_ERROR_LENGTH = 500

# What became of one attempt: delivered, to be tried again, or given up after the last attempt.
DeliveryOutcome = Literal["delivered", "retrying", "failed"]
DELIVERY_OUTCOMES: tuple[DeliveryOutcome, ...] = ("delivered", "retrying", "failed")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Vekst-Signature` value of `body` sent at `timestamp` (Unix seconds, as text)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


class Sender(Protocol):
    """Posts a body to a URL and returns the HTTP status; raises httpx.HTTPError without one."""

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> int: ...


@dataclass(frozen=True, slots=True)
class HttpSender:
    """The real sender: one short POST, redirects not followed."""

    timeout_seconds: float = 10.0

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        with httpx.Client(timeout=self.timeout_seconds, follow_redirects=False) as client:
            return client.post(url, content=body, headers=dict(headers)).status_code


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
    now: datetime | None = None,
    limit: int = 100,
) -> list[DeliveryOutcome]:
    """Attempt every pending delivery whose time has come; returns each attempt's outcome."""
    moment = now or datetime.now(UTC)
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
    outcomes: list[DeliveryOutcome] = []
    for delivery_id, planned in due:
        if delivery_id is not None and _claim(engine, delivery_id, planned, moment):
            outcome = _attempt(engine, delivery_id, send, policy, moment)
            if outcome is not None:
                outcomes.append(outcome)
    return outcomes


def _claim(engine: Engine, delivery_id: int, planned: datetime, now: datetime) -> bool:
    with engine.begin() as connection:
        claimed = connection.execute(
            update(WebhookDelivery)
            .where(
                col(WebhookDelivery.id) == delivery_id,
                col(WebhookDelivery.status) == DeliveryStatus.PENDING.value,
                col(WebhookDelivery.next_attempt_at) == planned,
            )
            .values(next_attempt_at=now + timedelta(seconds=_CLAIM_SECONDS))
        )
        return claimed.rowcount == 1


def _attempt(
    engine: Engine, delivery_id: int, send: Sender, policy: RetryPolicy, now: datetime
) -> DeliveryOutcome | None:
    """One attempt; None when the delivery or its webhook was deleted meanwhile (no attempt)."""
    with Session(engine, expire_on_commit=False) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        webhook = None if delivery is None else session.get(Webhook, delivery.webhook_id)
        if delivery is None or webhook is None:
            return None
        body = delivery.body.encode()
        timestamp = str(int(now.timestamp()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(webhook.secret, timestamp, body),
            EVENT_HEADER: delivery.event,
            DELIVERY_HEADER: str(delivery_id),
        }
        status: int | None = None
        error: str | None = None
        try:
            status = send(webhook.url, body, headers)
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"[:_ERROR_LENGTH]
        delivery.attempts += 1
        delivery.response_status = status
        outcome: DeliveryOutcome = "delivered"
        if status is not None and 200 <= status < 300:
            delivery.status = DeliveryStatus.DELIVERED.value
            delivery.delivered_at = now
            delivery.error = None
        else:
            delivery.error = error or f"the receiver answered HTTP {status}"
            if delivery.attempts >= policy.max_attempts:
                delivery.status = DeliveryStatus.FAILED.value
                outcome = "failed"
            else:
                delivery.next_attempt_at = now + policy.delay(delivery.attempts)
                outcome = "retrying"
            logger.warning(
                "webhook %s delivery %s attempt %s failed: %s",
                webhook.id,
                delivery_id,
                delivery.attempts,
                delivery.error,
            )
        session.add(delivery)
        session.commit()
        return outcome
