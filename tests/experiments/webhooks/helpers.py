"""What webhook tests share: fixed encryption keys, a target policy that lets a test reach its
own receiver on 127.0.0.1 (said explicitly, as VEKST_WEBHOOK_ALLOW_PRIVATE_TARGETS would), and
a shortcut that stores a webhook with them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from experiments.db import session_scope
from experiments.encryption import KeyRing
from experiments.models.webhook import (
    DeliveryStatus,
    WebhookCreate,
    WebhookCreated,
    WebhookDelivery,
)
from experiments.webhooks.store import create_webhook
from experiments.webhooks.targets import TargetPolicy

TEST_KEY = "RX0dwml4IUz32K11qkdMuXnJCouUgO1i49Wy3te46fE="
NEXT_KEY = "kvp4IZ2bokouUyVMTIFpS95EWEKoPE1Y0Q1b4W8x6Go="
PUBLIC_ADDRESS = "93.184.215.14"  # a global unicast address; no test ever connects to it
LOCAL_TARGETS = TargetPolicy(allow_private=True)


def fixed_keys() -> KeyRing:
    return KeyRing([TEST_KEY])


def add_webhook(
    session: Session,
    url: str,
    events: Sequence[str] = ("verdict_changed",),
    targets: TargetPolicy = LOCAL_TARGETS,
) -> WebhookCreated:
    body = WebhookCreate.model_validate({"url": url, "events": list(events)})
    return create_webhook(session, body, targets, fixed_keys())


def queue_delivery(engine: Engine, webhook_id: int, now: datetime) -> int:
    """A pending delivery to `webhook_id`, due at `now`; its id."""
    with session_scope(engine) as session:
        delivery = WebhookDelivery(
            webhook_id=webhook_id,
            event="verdict_changed",
            experiment="exp",
            look=1,
            body='{"text": "hello"}',
            status=DeliveryStatus.PENDING.value,
            next_attempt_at=now,
            created_at=now,
        )
        session.add(delivery)
        session.flush()
        return delivery.id or 0
