"""Page sessions kept on the server: logout ends them at once, the cookie holds only a random
id, every app instance on one database shares the secret, `Secure` in production, and a hostile
login form is a 4xx."""

from __future__ import annotations

import base64
import binascii
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.app import create_app
from api.pages.login import FORM_COOKIE
from api.pages.sessions import COOKIE_NAME
from experiments.db import make_engine, session_scope
from experiments.keys import create_key
from experiments.models.api_key import KeyScope
from experiments.models.page_session import PageSessionRecord
from experiments.page_sessions import open_session, shared_secret
from experiments.settings import Settings, load_settings
from tests.accounts import PASSWORD, add_user, email_of, form_token, log_in
from tests.api.helpers import assert_problem, experiment_body
from tests.api.pages.test_pages import csrf_of
from tests.conftest import ADMIN_KEY
from tests.databases import sqlite_only


def _stored_admin_key(database_url: str) -> str:
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            return create_key(session, KeyScope.ADMIN, "marketer").secret
    finally:
        engine.dispose()


def _records(database_url: str) -> list[PageSessionRecord]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return list(session.exec(select(PageSessionRecord)))
    finally:
        engine.dispose()


def _decodings(value: str) -> str:
    """The cookie as written, and each dot-separated part read as base64 and shown as hex."""
    shown = [value]
    for part in value.split("."):
        try:
            shown.append(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).hex())
        except (binascii.Error, ValueError):
            pass
    return " ".join(shown)


def test_logout_ends_the_session_on_the_server(client: TestClient) -> None:
    log_in(client)
    cookie = client.cookies.get(COOKIE_NAME) or ""
    assert client.get("/", follow_redirects=False).status_code == 200
    client.post("/logout", follow_redirects=False)
    client.cookies.set(COOKIE_NAME, cookie)  # a copy kept from before the logout
    after = client.get("/", follow_redirects=False)
    assert after.status_code == 303 and after.headers["location"] == "/login"
    assert client.get("/login").status_code == 200


def test_the_cookie_holds_a_random_id_new_at_each_login(
    client: TestClient, settings: Settings
) -> None:
    log_in(client)
    first = client.cookies.get(COOKIE_NAME) or ""
    log_in(client)  # the same browser again: its earlier session ends, a new id is given
    second = client.cookies.get(COOKIE_NAME) or ""
    assert first != second
    for cookie in (first, second):
        assert PASSWORD not in _decodings(cookie)
    records = _records(settings.database_url)
    assert len(records) == 2 and sum(record.ended_at is None for record in records) == 1
    for record in records:  # only hashes of the ids are stored
        assert record.id_hash not in first + second
    client.cookies.clear()
    client.cookies.set(COOKIE_NAME, first)  # the session before the second login has ended
    assert client.get("/", follow_redirects=False).status_code == 303


def test_two_app_instances_on_one_database_share_sessions(sqlite_url: str) -> None:
    # No VEKST_SESSION_SECRET and no VEKST_ADMIN_KEY: the normal case after first-start keys.
    key = _stored_admin_key(sqlite_url)
    settings = load_settings(database_url=sqlite_url, start_scheduler=False)
    with (
        TestClient(create_app(settings)) as first,
        TestClient(create_app(settings)) as second,
    ):
        headers = {"Authorization": f"Bearer {key}"}
        created = first.post("/v1/experiments", json=experiment_body("shared"), headers=headers)
        assert created.status_code == 201
        log_in(first)
        second.cookies.set(COOKIE_NAME, first.cookies.get(COOKIE_NAME) or "")
        assert second.get("/", follow_redirects=False).status_code == 200
        # The CSRF token one instance wrote into a form is accepted by the other.
        token = csrf_of(first.get("/experiments/shared/start").text)
        started = second.post(
            "/experiments/shared/start",
            data={"csrf": token, "confirm": "yes"},
            follow_redirects=False,
        )
        assert started.status_code == 303, started.text
        second.post("/logout", follow_redirects=False)
        assert first.get("/", follow_redirects=False).headers["location"] == "/login"


def test_the_shared_secret_is_made_once_when_processes_start_together(sqlite_url: str) -> None:
    engines = [make_engine(sqlite_url) for _ in range(8)]
    try:
        with ThreadPoolExecutor(len(engines)) as pool:
            secrets = list(pool.map(lambda engine: shared_secret(engine, "test"), engines))
        assert len(set(secrets)) == 1 and len(secrets[0]) >= 32
        assert shared_secret(engines[0], "other") != secrets[0]
    finally:
        for engine in engines:
            engine.dispose()


def test_expired_sessions_are_refused_and_deleted_at_the_next_login(
    client: TestClient, settings: Settings
) -> None:
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            long_ago = datetime.now(UTC) - timedelta(days=2)
            user_id = add_user(engine, "viewer")
            open_session(session, user_id, timedelta(hours=8), now=long_ago)
        assert len(_records(settings.database_url)) == 1
        log_in(client)
        (kept,) = _records(settings.database_url)
        assert kept.expires_at > datetime.now(UTC)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("overrides", "scheme", "secure"),
    [
        ({"environment": "production"}, "http", True),
        ({"environment": "production", "cookie_secure": False}, "https", False),
        ({"cookie_secure": True}, "http", True),
        ({}, "http", False),
        ({}, "https", True),
    ],
)
def test_secure_is_forced_in_production_and_by_the_setting(
    sqlite_url: str, overrides: dict[str, object], scheme: str, secure: bool
) -> None:
    settings = load_settings(
        database_url=sqlite_url, admin_key=ADMIN_KEY, start_scheduler=False, **overrides
    )
    with TestClient(create_app(settings), base_url=f"{scheme}://testserver") as client:
        add_user(sqlite_url)
        token = form_token(client)
        # A `Secure` form cookie is not sent back over http: here it is, as a proxy would.
        client.cookies.set(FORM_COOKIE, token)
        form = {"email": email_of("admin"), "password": PASSWORD, "csrf": token}
        login = client.post("/login", data=form, follow_redirects=False)
        assert login.status_code == 303
        assert ("; secure" in login.headers["set-cookie"].lower()) == secure


def test_the_cookie_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VEKST_COOKIE_SECURE", "true")
    assert load_settings().cookie_secure is True
    monkeypatch.setenv("VEKST_COOKIE_SECURE", "")
    assert load_settings().cookie_secure is None


@pytest.mark.parametrize(
    "body",
    [
        "&".join(f"f{number}=x" for number in range(12)).encode(),  # more than 10 fields
        b"password=" + b"a" * 1_000_000,  # a 1 MB field
        b"email=\xff\xfe",  # not UTF-8
        b"email=%ED%A0%80",  # a lone surrogate, percent-encoded
        b"password=%FF",
    ],
    ids=["12-fields", "1-MB", "raw-bytes", "surrogate", "bad-escape"],
)
@sqlite_only  # refused as it is parsed, before any lookup
def test_a_malformed_login_form_is_a_422_naming_the_body(client: TestClient, body: bytes) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    response = client.post("/login", content=body, headers=form)
    assert_problem(response, 422, "body")


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("\x00", PASSWORD),
        ("admin@example.com\x00", PASSWORD),
        ("admin@example.com", "\x00"),
        ("admin@example.com", PASSWORD + "\x00"),
        ("x" * 300 + "@example.com", PASSWORD),
        ("admin@example.com", "x" * 1001),
        ("\u00e9" * 50, PASSWORD),
        (" ", " "),
        ("no-at-sign", PASSWORD),
    ],
)
def test_a_hostile_login_is_refused_with_a_4xx(
    client: TestClient, email: str, password: str
) -> None:
    add_user(client.app.state.engine)  # type: ignore[attr-defined]
    form = {"email": email, "password": password, "csrf": form_token(client)}
    response = client.post("/login", data=form, follow_redirects=False)
    assert response.status_code in (401, 422), response.text
    assert COOKIE_NAME not in response.cookies


@pytest.mark.parametrize("hostile", ["\u00e9", "x.\u00e9", "\u00e9.\u00e9", "\x7f.\x7f"])
def test_a_hostile_cookie_or_token_is_a_4xx_never_a_5xx(client: TestClient, hostile: str) -> None:
    log_in(client)
    csrf = csrf_of(client.get("/account").text)
    changed = {"current_password": PASSWORD, "new_password": "x", "new_password_again": "x"}
    assert client.post("/account/password", data={**changed, "csrf": hostile}).status_code == 422
    assert client.post("/login", data={"csrf": hostile, "email": "a@b.c"}).status_code == 422
    raw = {b"cookie": f"{COOKIE_NAME}={hostile}; vekst_form={hostile}".encode()}
    client.cookies.clear()
    assert client.get("/", headers=raw, follow_redirects=False).status_code == 303
    login = {"csrf": hostile, "email": "a@b.c", "password": PASSWORD}
    assert client.post("/login", data=login, headers=raw).status_code == 422
    assert (
        client.post(
            "/account/password", data={**changed, "csrf": csrf}, headers=raw, follow_redirects=False
        ).status_code
        == 303
    )
