"""Webhooks in the database: create, list, delete, and the deliveries queued for them.

`queue_look_alerts` is the one door from a new look to the webhooks: whoever takes a look (the
scheduler, the routes, the pages, the CLI) hands it over, and the alerts it raises
(`results.alerts`) are queued in the look's transaction.

The URL and the secret are stored encrypted (`experiments.encryption`); listings and the audit
log hold only the URL's scheme and host (`targets.shown`).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from experiments.audit import COMMAND_LINE, Actor, record_change
from experiments.encryption import KeyRing
from experiments.errors import InvalidInputError, NotFoundError
from experiments.models.audit import AuditEntity
from experiments.models.webhook import (
    AlertKind,
    DeliveryPublic,
    DeliveryStatus,
    Webhook,
    WebhookCreate,
    WebhookCreated,
    WebhookDelivery,
    WebhookPublic,
)
from experiments.results.alerts import Alert, NewLook
from experiments.results.page import ResultsPage
from experiments.results.words.headline import display_state, headline
from experiments.webhooks.targets import (
    HOST_NOT_FOUND,
    INVALID_URL,
    REFUSED_PRIVATE,
    TargetPolicy,
    TargetRefusedError,
    shown,
)

DELIVERIES_SHOWN = 100
_RULES = {
    INVALID_URL: "must be an absolute http(s) URL without credentials",
    HOST_NOT_FOUND: "names a host that does not resolve",
    REFUSED_PRIVATE: (
        "resolves to a loopback, private, link-local or other non-public address; such targets "
        "need VEKST_WEBHOOK_ALLOW_PRIVATE_TARGETS=true"
    ),
}


def create_webhook(
    session: Session,
    body: WebhookCreate,
    targets: TargetPolicy,
    keys: KeyRing,
    now: datetime | None = None,
    actor: Actor = COMMAND_LINE,
) -> WebhookCreated:
    """Store a webhook whose URL `targets` allows (else `InvalidInputError` on `url`); a secret
    is made when none is given, and returned only then. The audit log records the creation by
    `actor`, never the secret or the full URL."""
    try:
        targets.check(body.url)
    except TargetRefusedError as refused:
        raise InvalidInputError("url", _RULES[refused.reason]) from refused
    secret = body.secret if body.secret is not None else secrets.token_urlsafe(32)
    made = None if body.secret is not None else secret
    webhook = Webhook(
        url=keys.seal(body.url),
        url_shown=shown(body.url),
        events=[kind.value for kind in body.events],
        secret=keys.seal(secret),
        created_at=now or datetime.now(UTC),
    )
    session.add(webhook)
    session.flush()
    record_change(
        session, actor, AuditEntity.WEBHOOK, str(webhook.id), "created", None, _state(webhook)
    )
    return WebhookCreated(**_public(webhook).model_dump(), secret=made)


def list_webhooks(session: Session) -> list[WebhookPublic]:
    return [_public(webhook) for webhook in session.exec(select(Webhook).order_by(col(Webhook.id)))]


def delete_webhook(session: Session, webhook_id: int, actor: Actor = COMMAND_LINE) -> None:
    """Delete a webhook and its deliveries; the audit log records the deletion by `actor`."""
    webhook = _get(session, webhook_id)
    record_change(
        session, actor, AuditEntity.WEBHOOK, str(webhook_id), "deleted", _state(webhook), {}
    )
    # Deliveries first: not every database enforces the foreign key's ON DELETE CASCADE.
    session.execute(delete(WebhookDelivery).where(col(WebhookDelivery.webhook_id) == webhook_id))
    session.execute(delete(Webhook).where(col(Webhook.id) == webhook_id))


def list_deliveries(session: Session, webhook_id: int) -> list[DeliveryPublic]:
    """The webhook's latest deliveries, newest first."""
    _get(session, webhook_id)
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook_id)
        .order_by(col(WebhookDelivery.id).desc())
        .limit(DELIVERIES_SHOWN)
    )
    return [
        DeliveryPublic(
            id=delivery.id or 0,
            event=AlertKind(delivery.event),
            experiment=delivery.experiment,
            look=delivery.look,
            status=DeliveryStatus(delivery.status),
            attempts=delivery.attempts,
            next_attempt_at=(
                delivery.next_attempt_at if delivery.status == DeliveryStatus.PENDING else None
            ),
            response_status=delivery.response_status,
            error=delivery.error,
            created_at=delivery.created_at,
            delivered_at=delivery.delivered_at,
        )
        for delivery in session.exec(query)
    ]


def queue_look_alerts(session: Session, new_look: NewLook) -> None:
    """Queue the deliveries of the alerts `new_look` raises, in the session that stored it, so
    they are committed with the look (or not at all)."""
    look = new_look.look
    enqueue_alerts(session, look.results, new_look.alerts(), look.computed_at)


def enqueue_alerts(
    session: Session,
    page: Mapping[str, Any],
    alerts: Sequence[Alert],
    now: datetime | None = None,
) -> int:
    """Queue one delivery per (alert, webhook subscribed to its kind); returns how many."""
    if not alerts:
        return 0
    moment = now or datetime.now(UTC)
    webhooks = list(session.exec(select(Webhook)))
    queued = 0
    for alert in alerts:
        body = message(page, alert)
        for webhook in webhooks:
            if alert.kind.value not in webhook.events:
                continue
            session.add(
                WebhookDelivery(
                    webhook_id=webhook.id or 0,
                    event=alert.kind.value,
                    experiment=str(page["experiment"]),
                    look=int(page["look"]),
                    body=body,
                    status=DeliveryStatus.PENDING.value,
                    attempts=0,
                    next_attempt_at=moment,
                    created_at=moment,
                )
            )
            queued += 1
    session.flush()
    return queued


def message(page: Mapping[str, Any], alert: Alert) -> str:
    """The JSON body of a delivery; `text` makes it a valid Slack incoming-webhook message."""
    experiment, look = page["experiment"], page["look"]
    decision = page["decision"]
    typed = ResultsPage.model_validate(page)
    stopped = bool(decision.get("outcome"))
    # Once stopped, what was done leads: the summary starts with it ("Shipped one-page on ...").
    said = (
        f"{page['summary']} {alert.headline}" if stopped else f"{alert.headline} {page['summary']}"
    )
    return json.dumps(
        {
            "event": alert.kind.value,
            "experiment": experiment,
            "look": look,
            "computed_at": page["computed_at"],
            "as_of": page["as_of"],
            "verdict": decision["verdict"],
            "variant": decision["variant"],
            "display_state": display_state(typed).value,
            "state": headline(typed),
            "headline": alert.headline,
            "summary": page["summary"],
            "text": f"Vekst, experiment {experiment} (look {look}): {said}",
        },
        separators=(",", ":"),
    )


def _get(session: Session, webhook_id: int) -> Webhook:
    webhook = session.get(Webhook, webhook_id)
    if webhook is None:
        raise NotFoundError(f"no webhook with id {webhook_id}")
    return webhook


def reseal_all(session: Session, keys: KeyRing) -> int:
    """Encrypt every webhook's URL and secret again with the first key (those stored before
    encryption for the first time); returns how many webhooks. Any key of `keys` may open them."""
    webhooks = list(session.exec(select(Webhook).order_by(col(Webhook.id))))
    for webhook in webhooks:
        webhook.url, webhook.secret = keys.reseal(webhook.url), keys.reseal(webhook.secret)
        session.add(webhook)
    session.flush()
    return len(webhooks)


def _state(webhook: Webhook) -> dict[str, Any]:
    """What the audit log keeps of a webhook: its host and what it sends (never its secret or
    the rest of its URL, which may hold one)."""
    return {"url": webhook.url_shown, "events": list(webhook.events)}


def _public(webhook: Webhook) -> WebhookPublic:
    return WebhookPublic(
        id=webhook.id or 0,
        url=webhook.url_shown,
        events=[AlertKind(kind) for kind in webhook.events],
        created_at=webhook.created_at,
    )
