"""API keys: 401 without a valid key, 403 with the wrong scope, revoked keys stop working."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import KeyVerifier
from experiments import keys
from experiments.db import make_engine, session_scope
from experiments.errors import ConflictError
from experiments.models.api_key import KeyScope
from experiments.settings import load_settings
from tests.api.helpers import experiment_body


def test_no_key_is_401(client: TestClient) -> None:
    response = client.get("/v1/experiments")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in response.json()["detail"]


@pytest.mark.parametrize("header", ["Bearer nope", "Basic abc", "Bearer ", "token"])
def test_unknown_or_malformed_key_is_401(client: TestClient, header: str) -> None:
    assert client.get("/v1/experiments", headers={"Authorization": header}).status_code == 401


def test_sdk_key_cannot_manage_experiments(client: TestClient, sdk_headers: dict[str, str]) -> None:
    response = client.post("/v1/experiments", json=experiment_body(), headers=sdk_headers)
    assert response.status_code == 403
    assert "scope editor or admin" in response.json()["detail"]


def test_auth_comes_before_validation(client: TestClient) -> None:
    assert client.post("/v1/experiments", json={"bad": 1}).status_code == 401


@pytest.fixture
def stored_key_client(database_url: str) -> Iterator[tuple[TestClient, str]]:
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        issued = keys.create_key(session, KeyScope.ADMIN, "test")
    engine.dispose()
    settings = load_settings(database_url=database_url, key_cache_seconds=0)
    with TestClient(create_app(settings)) as client:
        yield client, issued.secret


def test_stored_key_works_and_revocation_is_immediate(
    stored_key_client: tuple[TestClient, str], database_url: str
) -> None:
    client, secret = stored_key_client
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/v1/experiments", headers=headers).status_code == 200
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        keys.revoke_key(session, secret[: keys.PREFIX_LENGTH])
    engine.dispose()
    assert client.get("/v1/experiments", headers=headers).status_code == 401


class FakeClock:
    """Seconds that pass only when a test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_cached_key_expires_after_ttl(database_url: str) -> None:
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        issued = keys.create_key(session, KeyScope.SDK)
    clock = FakeClock()
    settings = load_settings(database_url=database_url, key_cache_seconds=0.2)
    verifier = KeyVerifier(engine, settings, clock)
    assert verifier.scope(issued.secret) == KeyScope.SDK
    with session_scope(engine) as session:
        keys.revoke_key(session, str(issued.id))
    assert verifier.scope(issued.secret) == KeyScope.SDK  # remembered until the TTL has passed
    clock.now += 0.3
    assert verifier.scope(issued.secret) is None
    engine.dispose()


def test_keys_are_stored_only_as_hashes(database_url: str) -> None:
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        issued = keys.create_key(session, KeyScope.ADMIN, "shop backend")
        stored = keys.list_keys(session)[0]
        assert issued.secret not in (stored.key_hash, stored.prefix, stored.name)
        assert stored.key_hash == keys.hash_key(issued.secret)
        identity = keys.find_key(session, issued.secret)
        assert identity is not None
        assert identity.scope == KeyScope.ADMIN
        assert (identity.actor.key_id, identity.actor.key_name) == (issued.id, "shop backend")
        assert keys.find_key(session, issued.secret + "x") is None
    engine.dispose()


def test_a_prefix_two_active_keys_share_revokes_neither(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `vk_server_` leaves two random characters in the 12-character prefix: they can repeat.
    tails = iter(["AB" + "x" * 41, "AB" + "y" * 41])
    monkeypatch.setattr(secrets, "token_urlsafe", lambda _size: next(tails))
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        first = keys.create_key(session, KeyScope.SERVER, "shop backend")
        second = keys.create_key(session, KeyScope.SERVER, "shop backend, new")
    assert first.prefix == second.prefix == "vk_server_AB"
    with session_scope(engine) as session, pytest.raises(ConflictError, match="revoke by id"):
        keys.revoke_key(session, first.prefix)
    with session_scope(engine) as session:
        keys.revoke_key(session, str(first.id))
    with session_scope(engine) as session:
        assert keys.find_key(session, first.secret) is None
        assert keys.find_key(session, second.secret) is not None
        keys.revoke_key(session, second.prefix)  # the only active one now
    engine.dispose()
