"""FastAPI dependencies under named aliases: SessionDep, SettingsDep, AdminKey, SdkKey, AnyKey."""

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
    """One session per request; committed when the endpoint returns without an error."""
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
    """After a definition changes, the next assign request reloads the config (this worker)."""
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


async def authorize(request: Request, *allowed: KeyScope) -> KeyScope:
    """The scope of the request's key; 401 without a valid key, 403 when not in `allowed`."""
    return await authorize_secret(request, _bearer_secret(request), *allowed)


async def authorize_secret(request: Request, secret: str, *allowed: KeyScope) -> KeyScope:
    """The same check for a key that came another way than the header (a beacon's body)."""
    verifier: KeyVerifier = request.app.state.key_verifier
    scope = verifier.cached_scope(secret)
    if scope is None:
        scope = await run_in_threadpool(verifier.scope, secret)
    if scope is None:
        raise AuthenticationError("the API key is unknown or revoked")
    if scope not in allowed:
        needed = " or ".join(s.value for s in allowed)
        raise PermissionDeniedError(
            f"this request needs a key with scope {needed}; the key sent has scope {scope.value}"
        )
    return scope


def _require(*allowed: KeyScope) -> Callable[[Request], Coroutine[Any, Any, KeyScope]]:
    async def check(request: Request) -> KeyScope:
        return await authorize(request, *allowed)

    return check


# Admin keys are a superset: a shop backend holding one may also assign and send events.
SDK_SCOPES = (KeyScope.SDK, KeyScope.ADMIN)


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
AdminKey = Annotated[KeyScope, Depends(_require(KeyScope.ADMIN))]
SdkKey = Annotated[KeyScope, Depends(_require(*SDK_SCOPES))]
