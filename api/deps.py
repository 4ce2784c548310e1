"""FastAPI dependencies under named aliases: SessionDep, SettingsDep, AdminKey, SdkKey.

The session and the served-config refresh are function-scoped: their code after `yield` runs
when the endpoint returns, before the response is sent. So every write is committed before the
client sees its answer, and a failed commit becomes an error response instead of a lost write.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.auth import KeyVerifier
from experiments.db import session_scope
from experiments.errors import AuthenticationError, PermissionDeniedError
from experiments.keys import KeyIdentity
from experiments.models import KeyScope
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
    """OpenAPI for a body that `parse_body` validates."""
    schema = {"content": {"application/json": {"schema": model.model_json_schema()}}}
    return {"requestBody": {**schema, "required": True}}


def refresh_served_config(request: Request) -> Iterator[None]:
    """After a definition changes, the next assign request reloads the config (this worker).

    Used function-scoped as a router dependency (`ServedConfigRefresh`): entered before the
    session, so it runs after the commit and before the response is sent.
    """
    yield
    request.app.state.evaluator_cache.invalidate()


def _bearer_secret(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise AuthenticationError(
            "an API key is required: send it as 'Authorization: Bearer <key>'"
        )
    return secret.strip()


async def authorize(request: Request, *allowed: KeyScope) -> KeyIdentity:
    """The request's key (scope, id, name); 401 without a valid key, 403 when not in `allowed`.

    The verifier caches identities, so a route learns who called without another lookup.
    """
    secret = _bearer_secret(request)
    verifier: KeyVerifier = request.app.state.key_verifier
    identity = verifier.cached_identity(secret)
    if identity is None:
        identity = await run_in_threadpool(verifier.identity, secret)
    if identity is None:
        raise AuthenticationError("the API key is unknown or revoked")
    scope = identity.scope
    if scope not in allowed:
        needed = " or ".join(s.value for s in allowed)
        raise PermissionDeniedError(
            f"this request needs a key with scope {needed}; the key sent has scope {scope.value}"
        )
    return identity


def _require(*allowed: KeyScope) -> Callable[[Request], Coroutine[Any, Any, KeyIdentity]]:
    async def check(request: Request) -> KeyIdentity:
        return await authorize(request, *allowed)

    return check


# Admin keys are a superset: a shop backend holding one may also assign and send events.
SDK_SCOPES = (KeyScope.SDK, KeyScope.ADMIN)


# scope="function": committed before the response is sent, never after it.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
AdminKey = Annotated[KeyIdentity, Depends(_require(KeyScope.ADMIN))]
SdkKey = Annotated[KeyIdentity, Depends(_require(*SDK_SCOPES))]
ServedConfigRefresh = Depends(refresh_served_config, scope="function")
