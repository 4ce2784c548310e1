"""Webhooks and API keys on the page (the admin role): list, create (the secret shown once, on
the answer to the creation, never again), delete or revoke, and a webhook's deliveries.

The forms post to the API's own code: `WebhookCreate` to `webhooks.store.create_webhook` (with
the server's target policy and encryption keys), and a key to `keys.create_key`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, status
from fastapi.responses import RedirectResponse, Response

from api.deps import SessionDep
from api.pages.access import LoggedIn, PageRoute, UserDep, render_page
from api.pages.workspace.forms import AdminForm, FieldErrors, Fields, attempt, validated
from experiments import keys as key_store
from experiments.encryption import KeyRing
from experiments.inputs import text_problem
from experiments.models.api_key import KeyScope
from experiments.models.webhook import AlertKind, WebhookCreate
from experiments.webhooks import store
from experiments.webhooks.targets import TargetPolicy

router = APIRouter(include_in_schema=False, route_class=PageRoute)
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
MAX_KEY_NAME = 200


@router.get("/webhooks")
def webhook_list(request: Request, session: SessionDep, user: UserDep) -> Response:
    user.require("admin")
    return _webhooks_page(request, session, user, Fields([]), FieldErrors())


@router.post("/webhooks")
def create_webhook(
    request: Request, session: SessionDep, user: UserDep, posted: AdminForm
) -> Response:
    fields, errors = posted.fields, posted.errors
    body: dict[str, Any] = {"url": fields.get("url").strip(), "events": fields.all("events")}
    if fields.get("secret"):
        body["secret"] = fields.get("secret")
    data = validated(WebhookCreate, body, errors)
    if data is not None and not errors:
        targets: TargetPolicy = request.app.state.webhook_targets
        keys: KeyRing = request.app.state.encryption_keys
        made = attempt(
            session,
            errors,
            lambda: store.create_webhook(session, data, targets, keys, actor=user.actor),
        )
        if made is not None:
            context = {"created": made}
            return _webhooks_page(request, session, user, Fields([]), errors, 201, context)
    return _webhooks_page(request, session, user, fields, errors, 422)


def _webhooks_page(
    request: Request,
    session: SessionDep,
    user: LoggedIn,
    fields: Fields,
    errors: FieldErrors,
    code: int = 200,
    extra: dict[str, Any] | None = None,
) -> Response:
    context = {
        "user": user,
        "webhooks": store.list_webhooks(session),
        "kinds": [kind.value for kind in AlertKind],
        "fields": fields,
        "errors": errors,
        "created": None,
        **(extra or {}),
    }
    return render_page(request, "workspace/webhooks.html", context, code)


@router.post("/webhooks/{webhook_id}/delete")
def delete_webhook(
    request: Request, webhook_id: RowId, session: SessionDep, user: UserDep, posted: AdminForm
) -> Response:
    """Delete at once: the list's button sits beside the webhook it names, and a deletion is
    recorded in the audit log (a webhook is made again in a moment, unlike a stopped test)."""
    errors = posted.errors
    if not errors:
        store.delete_webhook(session, webhook_id, actor=user.actor)
        return RedirectResponse("/webhooks", status.HTTP_303_SEE_OTHER)
    return _webhooks_page(request, session, user, Fields([]), errors, 422)


@router.get("/webhooks/{webhook_id}/deliveries")
def deliveries(request: Request, webhook_id: RowId, session: SessionDep, user: UserDep) -> Response:
    user.require("admin")
    found = store.list_deliveries(session, webhook_id)
    context = {"user": user, "webhook_id": webhook_id, "deliveries": found}
    return render_page(request, "workspace/deliveries.html", context)


@router.get("/keys")
def key_list(request: Request, session: SessionDep, user: UserDep) -> Response:
    user.require("admin")
    return _keys_page(request, session, user, Fields([]), FieldErrors())


@router.post("/keys")
def create_key(request: Request, session: SessionDep, user: UserDep, posted: AdminForm) -> Response:
    """A new key of the chosen scope; its secret is on this answer only (only its hash is
    stored)."""
    fields, errors = posted.fields, posted.errors
    scope = _scope(fields.get("scope"), errors)
    name = fields.get("name").strip()
    problem = text_problem(name)
    if problem is None and len(name) > MAX_KEY_NAME:
        problem = f"must have at most {MAX_KEY_NAME} characters"
    if problem is not None:
        errors.add("name", problem)
    if scope is not None and not errors:
        issued = key_store.create_key(session, scope, name, actor=user.actor)
        context = {"issued": issued}
        return _keys_page(request, session, user, Fields([]), errors, 201, context)
    return _keys_page(request, session, user, fields, errors, 422)


def _scope(text: str, errors: FieldErrors) -> KeyScope | None:
    try:
        return KeyScope(text)
    except ValueError:
        errors.add("scope", f"must be one of {', '.join(scope.value for scope in KeyScope)}")
        return None


@router.post("/keys/{key_id}/revoke")
def revoke_key(
    request: Request, key_id: RowId, session: SessionDep, user: UserDep, posted: AdminForm
) -> Response:
    """Revoke at once (the key stops working, its page sessions end), from the button on the
    key's own row."""
    errors = posted.errors
    if not errors:
        revoked = attempt(
            session, errors, lambda: key_store.revoke_key(session, str(key_id), actor=user.actor)
        )
        if revoked is not None:
            return RedirectResponse("/keys", status.HTTP_303_SEE_OTHER)
    return _keys_page(request, session, user, Fields([]), errors, 409)


def _keys_page(
    request: Request,
    session: SessionDep,
    user: LoggedIn,
    fields: Fields,
    errors: FieldErrors,
    code: int = 200,
    extra: dict[str, Any] | None = None,
) -> Response:
    context = {
        "user": user,
        "keys": key_store.list_keys(session),
        "scopes": [scope.value for scope in KeyScope],
        "fields": fields,
        "errors": errors,
        "issued": None,
        **(extra or {}),
    }
    return render_page(request, "workspace/keys.html", context, code)
