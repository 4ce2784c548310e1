"""Webhooks (admin key): subscribe a URL to alerts, list, delete, and see its deliveries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status

from api.deps import AdminKey, AuthFirstRoute, SessionDep
from api.problems import PROTECTED, problem_responses
from experiments.encryption import KeyRing
from experiments.models.webhook import DeliveryPublic, WebhookCreate, WebhookCreated, WebhookPublic
from experiments.webhooks import store
from experiments.webhooks.targets import TargetPolicy

router = APIRouter(
    route_class=AuthFirstRoute,
    responses=problem_responses(*PROTECTED, 404),
    prefix="/v1/webhooks",
    tags=["webhooks"],
)

# A webhook id in a path: a positive database id (bounded, so no overflow reaches the database).
WebhookId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _targets(request: Request) -> TargetPolicy:
    targets: TargetPolicy = request.app.state.webhook_targets
    return targets


def _keys(request: Request) -> KeyRing:
    keys: KeyRing = request.app.state.encryption_keys
    return keys


@router.post("", status_code=status.HTTP_201_CREATED, responses=problem_responses(503))
def create_webhook(
    body: WebhookCreate,
    session: SessionDep,
    admin: AdminKey,
    targets: Annotated[TargetPolicy, Depends(_targets)],
    keys: Annotated[KeyRing, Depends(_keys)],
) -> WebhookCreated:
    """The URL's host must resolve to public addresses (unless private targets are allowed).
    The secret is shown in this answer only when the server made it. 503 in production without
    `VEKST_ENCRYPTION_KEYS`."""
    return store.create_webhook(session, body, targets, keys, actor=admin.actor)


@router.get("")
def list_webhooks(session: SessionDep, _key: AdminKey) -> list[WebhookPublic]:
    """Each URL as its scheme and host only."""
    return store.list_webhooks(session)


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(webhook_id: WebhookId, session: SessionDep, admin: AdminKey) -> Response:
    store.delete_webhook(session, webhook_id, actor=admin.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{webhook_id}/deliveries")
def list_deliveries(
    webhook_id: WebhookId, session: SessionDep, _key: AdminKey
) -> list[DeliveryPublic]:
    return store.list_deliveries(session, webhook_id)
