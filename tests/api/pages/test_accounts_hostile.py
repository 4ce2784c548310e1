"""Every accounts form fed hostile values: NUL, a lone surrogate, 10 MB, over-long and empty
values, a taken e-mail. Each is refused with a 4xx (a field error naming the field where the
form could be read), never a 5xx, and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from experiments import invitations
from experiments.audit import user_actor
from experiments.db import session_scope
from experiments.models.user import UserRole
from experiments.settings import load_settings
from tests.accounts import PASSWORD, add_user, email_of, log_in
from tests.api.pages.test_pages import csrf_of

GOOD = "amber kettles hum quietly"
#: form -> (path, its fields with good values); `{id}` is a viewer's id, `{token}` an invitation's.
FORMS: dict[str, tuple[str, dict[str, str]]] = {
    "invite": ("/users/invitations", {"email": "new@example.com", "role": "viewer"}),
    "role": ("/users/{id}/role", {"role": "editor"}),
    "reset": ("/users/{id}/password", {"password": GOOD}),
    "own": (
        "/account/password",
        {"current_password": PASSWORD, "new_password": GOOD, "new_password_again": GOOD},
    ),
    "invitation": ("/invitations/{token}", {"password": GOOD, "password_again": GOOD}),
}
HOSTILE = {
    "nul": "\x00",
    "nul-inside": "good value\x00 with more",
    "empty": "",
    "over-long": "x" * 3000,
    "negative": "-1",
}
#: Bodies that cannot be read as a form: each is a 4xx for the whole body.
RAW = {
    "lone-surrogate": b"%ED%A0%80",
    "not-utf8": b"\xff\xfe",
    "10-MB": b"x" * (10 * 1024 * 1024),
}
FORM_TYPE = {"Content-Type": "application/x-www-form-urlencoded"}
CASES = [(form, field) for form, (_, fields) in FORMS.items() for field in fields]


@pytest.fixture
def admin(sqlite_url: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """An admin's client, and what the paths need: a viewer's id and an invitation token."""
    settings = load_settings(database_url=sqlite_url, start_scheduler=False)
    with TestClient(create_app(settings)) as client:
        log_in(client)
        engine = client.app.state.engine  # type: ignore[attr-defined]
        admin_id = add_user(engine)
        viewer_id = add_user(engine, "viewer")
        with session_scope(engine) as session:
            actor = user_actor(admin_id, email_of("admin"))
            issued = invitations.invite(session, "guest@example.com", UserRole.EDITOR, actor)
        yield client, {"id": str(viewer_id), "token": issued.token}


def _token(client: TestClient, form: str, names: dict[str, str]) -> str:
    """The form's CSRF token: the session's, or for an invitation its page's own."""
    page = _path("/invitations/{token}", names) if form == "invitation" else "/account"
    return csrf_of(client.get(page).text)


def _path(template: str, names: dict[str, str]) -> str:
    return template.replace("{id}", names["id"]).replace("{token}", names["token"])


@pytest.mark.parametrize(("form", "field"), CASES)
def test_a_hostile_field_is_a_field_error(
    admin: tuple[TestClient, dict[str, str]], form: str, field: str
) -> None:
    client, names = admin
    template, fields = FORMS[form]
    path = _path(template, names)
    for name, value in HOSTILE.items():
        data = {**fields, field: value, "csrf": _token(client, form, names)}
        response = client.post(path, data=data, follow_redirects=False)
        assert 400 <= response.status_code < 500, (name, response.text)
        if response.status_code == 422 and name != "over-long":
            assert field in response.text, (name, response.text)  # named beside the field
    for name, raw in RAW.items():
        data = {**fields, "csrf": _token(client, form, names)}
        body = urlencode({k: v for k, v in data.items() if k != field}).encode()
        body += b"&" + field.encode() + b"=" + raw
        response = client.post(path, content=body, headers=FORM_TYPE)
        assert 400 <= response.status_code < 500, (name, response.text)
    assert client.get(_path("/invitations/{token}", names)).status_code == 200  # still unused


def test_a_taken_email_is_the_email_fields_error(
    admin: tuple[TestClient, dict[str, str]],
) -> None:
    client, _ = admin
    csrf = csrf_of(client.get("/users").text)
    for taken in ("viewer@example.com", " VIEWER@example.com"):
        response = client.post(
            "/users/invitations", data={"csrf": csrf, "email": taken, "role": "editor"}
        )
        assert response.status_code == 409
        assert 'id="email-error"' in response.text and "belongs to an account" in response.text
