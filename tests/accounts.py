"""People for the page tests: a user of each role, made straight in the database, and a login.

Passwords in tests are hashed with a cheap argon2id (`cheap_hasher`, set for every test by
tests/conftest.py); a server started in its own process hashes with the real parameters and
still checks these hashes, which carry their own parameters.
"""

from __future__ import annotations

from typing import Any

import httpx
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from experiments import users
from experiments.db import make_engine, session_scope
from experiments.models.user import UserRole

PASSWORD = "seven lilac otters sing"


def cheap_hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)


def email_of(role: str) -> str:
    return f"{role}@example.com"


def add_user(
    database: str | Engine, role: str = "admin", email: str | None = None, password: str = PASSWORD
) -> int:
    """The user `email` (default `<role>@example.com`) with `role`, made if missing; their id."""
    engine = make_engine(database) if isinstance(database, str) else database
    try:
        with session_scope(engine) as session:
            address = users.normalise_email(email or email_of(role))
            found = users.find_by_email(session, address)
            if found is None:
                found = users.create_user(session, address, password, UserRole(role))
            if found.id is None:
                raise RuntimeError("the user was not stored")
            return found.id
    finally:
        if isinstance(database, str):
            engine.dispose()


def form_token(client: TestClient | httpx.Client, path: str = "/login") -> str:
    """The CSRF token of a form shown before any session (the login, an invitation): read from
    the page, its twin kept in the client's `vekst_form` cookie."""
    html = client.get(path).text
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def log_in(
    client: TestClient, role: str = "admin", email: str | None = None, password: str = PASSWORD
) -> None:
    """Log `client` in as the user of `role` (made first when missing)."""
    add_user(client.app.state.engine, role, email, password)  # type: ignore[attr-defined]
    form = {"email": email or email_of(role), "password": password, "csrf": form_token(client)}
    response = client.post("/login", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/"


def log_in_page(
    page: Any, api: str, role: str = "admin", email: str | None = None, password: str = PASSWORD
) -> None:
    """Log a Playwright `page` in through the login form, as a person would."""
    page.goto(f"{api}/login")
    page.fill("#email", email or email_of(role))
    page.fill("#password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{api}/")
