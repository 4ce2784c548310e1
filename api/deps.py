"""FastAPI dependencies under named aliases: SessionDep, SettingsDep, AdminKey, SdkKey, AnyKey."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.auth import KeyVerifier
from experiments.errors import AuthenticationError, PermissionDeniedError
from experiments.models import KeyScope
from experiments.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; committed when the endpoint returns without an error."""
    with Session(get_engine(request), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


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


def _require(
    *allowed: KeyScope,
) -> Callable[[Request], Coroutine[Any, Any, KeyScope]]:
    async def check(request: Request) -> KeyScope:
        secret = _bearer_secret(request)
        verifier: KeyVerifier = request.app.state.key_verifier
        scope = verifier.cached_scope(secret)
        if scope is None:
            scope = await run_in_threadpool(verifier.scope, secret)
        if scope is None:
            raise AuthenticationError("the API key is unknown or revoked")
        if scope not in allowed:
            needed = " or ".join(s.value for s in allowed)
            raise PermissionDeniedError(
                f"this request needs a key with scope {needed}; "
                f"the key sent has scope {scope.value}"
            )
        return scope

    return check


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
AdminKey = Annotated[KeyScope, Depends(_require(KeyScope.ADMIN))]
# Admin keys are a superset: a shop backend holding one may also assign and send events.
SdkKey = Annotated[KeyScope, Depends(_require(KeyScope.SDK, KeyScope.ADMIN))]
