"""Webhooks (admin key): subscribe a URL to alerts, list, delete, and see its deliveries."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.deps import AdminKey, SessionDep
from experiments.models import DeliveryPublic, WebhookCreate, WebhookCreated, WebhookPublic
from experiments.webhooks import store

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_webhook(body: WebhookCreate, session: SessionDep, _key: AdminKey) -> WebhookCreated:
    """The secret is shown in this answer only when the server made it."""
    return store.create_webhook(session, body)


@router.get("")
def list_webhooks(session: SessionDep, _key: AdminKey) -> list[WebhookPublic]:
    return store.list_webhooks(session)


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(webhook_id: int, session: SessionDep, _key: AdminKey) -> Response:
    store.delete_webhook(session, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{webhook_id}/deliveries")
def list_deliveries(webhook_id: int, session: SessionDep, _key: AdminKey) -> list[DeliveryPublic]:
    return store.list_deliveries(session, webhook_id)
