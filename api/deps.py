"""FastAPI dependencies under named aliases: SessionDep, SettingsDep, the key of each scope
(ViewerKey for reads, EditorKey for writes, AdminKey for webhooks and keys, SdkKey for the
SDK's routes); and `AuthFirstRoute`, which checks a route's key before FastAPI reads the
request body.

The session and the served-config refresh are function-scoped: their code after `yield` runs
when the endpoint returns, before the response is sent. So every write is committed before the
client sees its answer, and a failed commit becomes an error response instead of a lost write.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, Response, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.auth import KeyVerifier
from experiments.db import session_scope
from experiments.errors import AuthenticationError, PermissionDeniedError
from experiments.keys import KeyIdentity, matches_configured
from experiments.models.api_key import KeyScope
from experiments.settings import Settings

BodyModel = TypeVar("BodyModel", bound=BaseModel)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; committed when the endpoint returns without an error, before
    the response is sent (see SessionDep)."""
    with session_scope(get_engine(request)) as session:
        yield session


def parse_body(model: type[BodyModel], raw: bytes) -> BodyModel:
    """Validate a JSON body by hand (hot endpoints authorize first, then parse), with the same
    422 problem document as FastAPI's own body validation."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        ) from exc


def json_body_doc(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI for a body validated by hand (`parse_body`, or the event intake)."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})
    content = {"application/json": {"schema": _inline(schema, definitions)}}
    return {"requestBody": {"content": content, "required": True}}


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    # The OpenAPI document has no `$defs` of its own: nested models are written out in place.
    if isinstance(node, dict):
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/$defs/"):
            return _inline(definitions[reference.removeprefix("#/$defs/")], definitions)
        return {key: _inline(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, definitions) for item in node]
    return node


def refresh_served_config(request: Request) -> Iterator[None]:
    """After a definition changes, the next assign request reloads the config (this worker),
    and the other processes are told through Redis when there is one (`ChangeWatcher`).

    Used function-scoped as a router dependency (`ServedConfigRefresh`): entered before the
    session, so it runs after the commit and before the response is sent.
    """
    yield
    request.app.state.evaluator_cache.invalidate()
    if request.method not in ("GET", "HEAD"):
        request.app.state.changes.announce()


def bearer_secret(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise AuthenticationError(
            "an API key is required: send it as 'Authorization: Bearer <key>'"
        )
    return secret.strip()


# Declares the scheme in the OpenAPI (so /docs can authorise); the check itself is `authorize`.
bearer_scheme = HTTPBearer(
    scheme_name="bearerAuth",
    description="An API key: `Authorization: Bearer vk_admin_...`, `vk_server_...` or `vk_sdk_...`",
    auto_error=False,
)
BEARER_SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]


async def authorize(request: Request, *allowed: KeyScope) -> KeyIdentity:
    """The request's key (scope, id, name); 401 without a valid key, 403 when not in `allowed`.

    The verifier caches identities, so a route learns who called without another lookup; the
    identity is remembered on the request, so `AuthFirstRoute` and the dependency check once.
    """
    identity: KeyIdentity | None = getattr(request.state, "key_identity", None)
    if identity is None:
        identity = await _identify(request, bearer_secret(request))
        request.state.key_identity = identity
    return _in_scope(identity, allowed)


async def authorize_operations(request: Request) -> None:
    """Operations reads (`/metrics`, `/readyz`'s details): the metrics token
    (`VEKST_METRICS_TOKEN`) or an admin key; 401 without either, 403 for an sdk key."""
    token = get_settings(request).metrics_token
    if token is None or not matches_configured(bearer_secret(request), token):
        await authorize(request, KeyScope.ADMIN)


async def authorize_secret(request: Request, secret: str, *allowed: KeyScope) -> KeyIdentity:
    """The same check for a key that came another way than the header (a beacon's body)."""
    return _in_scope(await _identify(request, secret), allowed)


async def _identify(request: Request, secret: str) -> KeyIdentity:
    verifier: KeyVerifier = request.app.state.key_verifier
    identity = verifier.cached_identity(secret)
    if identity is None:
        identity = await run_in_threadpool(verifier.identity, secret)
    if identity is None:
        raise AuthenticationError("the API key is unknown or revoked")
    return identity


def _in_scope(identity: KeyIdentity, allowed: tuple[KeyScope, ...]) -> KeyIdentity:
    scope = identity.scope
    if scope not in allowed:
        needed = " or ".join(s.value for s in allowed)
        raise PermissionDeniedError(
            f"this request needs a key with scope {needed}; the key sent has scope {scope.value}"
        )
    return identity


class RequireKey:
    """A dependency: the request's key must have one of `scopes` (see `AuthFirstRoute`)."""

    def __init__(self, *scopes: KeyScope) -> None:
        self.scopes = scopes

    async def __call__(
        self,
        request: Request,
        _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
    ) -> KeyIdentity:
        return await authorize(request, *self.scopes)


def _required_scopes(dependant: Dependant) -> tuple[KeyScope, ...] | None:
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, RequireKey):
            return dependency.call.scopes
        found = _required_scopes(dependency)
        if found is not None:
            return found
    return None


class AuthFirstRoute(APIRoute):
    """A route that answers 401/403 before its body is read or validated.

    FastAPI reads and parses a JSON body before it solves any dependency, so without this a
    request without a key learnt how its body was judged. The scope comes from the route's
    `RequireKey` dependency; `authorize` remembers it on the request, so the check runs once.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        scopes = _required_scopes(self.dependant)
        if scopes is None:
            return handler

        async def authorized(request: Request) -> Response:
            await authorize(request, *scopes)
            return await handler(request)

        return authorized


# Where the public sdk key is taken, so is a shop backend's secret server key, and an admin key
# (a superset). Only the beacon takes sdk keys alone: a beacon comes from a browser.
SDK_SCOPES = (KeyScope.SDK, KeyScope.SERVER, KeyScope.ADMIN)


# The management API's scopes, each with those above it: reads, writes, administration.
VIEWER_SCOPES = (KeyScope.VIEWER, KeyScope.EDITOR, KeyScope.ADMIN)
EDITOR_SCOPES = (KeyScope.EDITOR, KeyScope.ADMIN)

# scope="function": committed before the response is sent, never after it.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ViewerKey = Annotated[KeyIdentity, Depends(RequireKey(*VIEWER_SCOPES))]
EditorKey = Annotated[KeyIdentity, Depends(RequireKey(*EDITOR_SCOPES))]
AdminKey = Annotated[KeyIdentity, Depends(RequireKey(KeyScope.ADMIN))]
SdkKey = Annotated[KeyIdentity, Depends(RequireKey(*SDK_SCOPES))]
ServedConfigRefresh = Depends(refresh_served_config, scope="function")
