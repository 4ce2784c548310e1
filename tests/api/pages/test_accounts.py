"""Accounts on the pages: invitations, roles, what a viewer sees and may not do, sessions that
end when a user changes, passwords, and throttled logins."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from api.app import create_app
from api.pages.sessions import COOKIE_NAME
from experiments import invitations, login_throttle
from experiments.audit import user_actor
from experiments.db import make_engine, session_scope
from experiments.models.user import UserRole
from experiments.settings import Settings
from tests.accounts import PASSWORD, add_user, email_of, form_token, log_in
from tests.api.helpers import experiment_body
from tests.api.pages.test_pages import csrf_of

NEW_PASSWORD = "amber kettles hum quietly"


def _invitation_path(html: str) -> str:
    match = re.search(r"https?://[^/]+(/invitations/[A-Za-z0-9_-]+)", html)
    assert match is not None, html
    return match.group(1)


def _audit(client: TestClient, admin_headers: dict[str, str]) -> list[dict[str, object]]:
    items: list[dict[str, object]] = client.get("/v1/audit", headers=admin_headers).json()["items"]
    return items


def test_an_admin_invites_someone_who_sets_a_password_and_logs_in(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    app = create_app(settings)
    with TestClient(app) as admin, TestClient(app) as invitee:
        log_in(admin)
        users_page = admin.get("/users")
        token = csrf_of(users_page.text)
        made = admin.post(
            "/users/invitations",
            data={"csrf": token, "email": "Kari@Shop.example", "role": "editor"},
        )
        assert made.status_code == 201
        path = _invitation_path(made.text)
        assert "kari@shop.example (editor)" in admin.get("/users").text  # open invitations
        form = invitee.get(path)
        assert form.status_code == 200 and "kari@shop.example" in form.text
        unsigned = invitee.post(
            path, data={"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
        )
        assert unsigned.status_code == 422 and "csrf the form is stale" in unsigned.text
        ftoken = csrf_of(form.text)
        mismatch = invitee.post(
            path, data={"csrf": ftoken, "password": NEW_PASSWORD, "password_again": "x"}
        )
        assert mismatch.status_code == 422 and "password_again must repeat" in mismatch.text
        common = invitee.post(
            path,
            data={"csrf": ftoken, "password": "password1234", "password_again": "password1234"},
        )
        assert common.status_code == 422 and "is a common password" in common.text
        short = invitee.post(
            path, data={"csrf": ftoken, "password": "short", "password_again": "short"}
        )
        assert short.status_code == 422 and "at least 12 characters" in short.text
        accepted = invitee.post(
            path,
            data={"csrf": ftoken, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
            follow_redirects=False,
        )
        assert accepted.status_code == 303 and COOKIE_NAME in accepted.cookies
        assert "kari@shop.example (editor)" in invitee.get("/").text
        assert invitee.get(path).status_code == 404  # single use
        invitee.post("/logout")
        again = invitee.post(
            "/login",
            data={
                "email": "kari@shop.example",
                "password": NEW_PASSWORD,
                "csrf": form_token(invitee),
            },
            follow_redirects=False,
        )
        assert again.status_code == 303
        # The editor's change is logged under their name, the invitation under the admin's.
        created = invitee.post(
            "/v1/experiments", json=experiment_body(key="by-kari"), headers=admin_headers
        )
        assert created.status_code == 201
        entries = _audit(admin, admin_headers)
        invited = [entry for entry in entries if entry["action"] == "invited"]
        assert invited[-1]["key_name"] == email_of("admin")
        joined = [
            entry for entry in entries if entry["action"] == "created" and entry["entity"] == "user"
        ]
        assert joined[-1]["key_name"] == "kari@shop.example" and joined[-1]["user_id"] is not None


def test_an_expired_or_made_up_invitation_is_a_404(client: TestClient) -> None:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    admin_id = add_user(engine)
    with session_scope(engine) as session:
        actor = user_actor(admin_id, email_of("admin"))
        long_ago = datetime.now(UTC) - timedelta(hours=73)
        old = invitations.invite(session, "late@example.com", UserRole.VIEWER, actor, now=long_ago)
    assert client.get(f"/invitations/{old.token}").status_code == 404
    for token in ("nope", "x" * 99):
        response = client.post(f"/invitations/{token}", data={"password": NEW_PASSWORD})
        assert response.status_code == 404
    assert client.get("/invitations/" + "x" * 101).status_code == 422


def test_a_viewer_sees_no_write_control_and_a_forged_post_is_403(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    assert (
        client.post(
            "/v1/experiments", json=experiment_body(key="cta"), headers=admin_headers
        ).status_code
        == 201
    )
    log_in(client, "viewer")
    page = client.get("/experiments/cta").text
    assert "Start the experiment" not in page and 'method="post"' in page  # only the log-out
    assert page.count('method="post"') == 1
    users_page = client.get("/users").text
    assert users_page.count('method="post"') == 1 and "Invite someone" not in users_page
    token = csrf_of(client.get("/account").text)  # a real token of the viewer's session
    viewer_id = add_user(client.app.state.engine, "viewer")  # type: ignore[attr-defined]
    forged = {
        "/experiments/cta/start": {"csrf": token, "confirm": "yes"},
        "/experiments/cta/looks": {"csrf": token},
        "/users/invitations": {"csrf": token, "email": "x@example.com", "role": "admin"},
        f"/users/{viewer_id}/role": {"csrf": token, "role": "admin"},
        f"/users/{viewer_id}/disable": {"csrf": token},
        f"/users/{viewer_id}/password": {"csrf": token, "password": NEW_PASSWORD},
    }
    for path, form in forged.items():
        assert client.post(path, data=form).status_code == 403, path
    assert client.get("/experiments/cta/start").status_code == 403
    assert client.get("/v1/experiments/cta", headers=admin_headers).json()["status"] == "draft"


def test_a_role_change_a_reset_and_disabling_end_the_users_sessions(settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app) as admin, TestClient(app) as editor:
        log_in(admin)
        log_in(editor, "editor")
        editor_id = add_user(app.state.engine, "editor")
        csrf = csrf_of(admin.get("/users").text)
        changed = admin.post(
            f"/users/{editor_id}/role",
            data={"csrf": csrf, "role": "viewer"},
            follow_redirects=False,
        )
        assert changed.status_code == 303
        assert editor.get("/", follow_redirects=False).headers["location"] == "/login"
        log_in(editor, "editor")  # the same account, now a viewer
        assert "editor@example.com (viewer)" in editor.get("/").text
        reset = admin.post(
            f"/users/{editor_id}/password", data={"csrf": csrf, "password": NEW_PASSWORD}
        )
        assert reset.status_code == 200  # back on the users page
        assert editor.get("/", follow_redirects=False).status_code == 303
        log_in(editor, "editor", password=NEW_PASSWORD)
        disabled = admin.post(
            f"/users/{editor_id}/disable", data={"csrf": csrf}, follow_redirects=False
        )
        assert disabled.status_code == 303
        assert editor.get("/", follow_redirects=False).status_code == 303
        refused = editor.post(
            "/login",
            data={
                "email": email_of("editor"),
                "password": NEW_PASSWORD,
                "csrf": form_token(editor),
            },
        )
        assert refused.status_code == 401
        assert "disabled" in admin.get("/users").text


def test_the_last_admin_can_be_neither_demoted_nor_disabled(client: TestClient) -> None:
    log_in(client)
    admin_id = add_user(client.app.state.engine)  # type: ignore[attr-defined]
    csrf = csrf_of(client.get("/users").text)
    demoted = client.post(f"/users/{admin_id}/role", data={"csrf": csrf, "role": "viewer"})
    assert demoted.status_code == 409 and "the last active admin" in demoted.text
    disabled = client.post(f"/users/{admin_id}/disable", data={"csrf": csrf})
    assert disabled.status_code == 409 and f'id="user-{admin_id}-error"' in disabled.text
    assert client.get("/", follow_redirects=False).status_code == 200


def test_changing_ones_own_password_keeps_this_session_and_ends_the_others(
    settings: Settings,
) -> None:
    app = create_app(settings)
    with TestClient(app) as here, TestClient(app) as elsewhere:
        log_in(here, "viewer")
        log_in(elsewhere, "viewer")
        csrf = csrf_of(here.get("/account").text)
        wrong = {
            "csrf": csrf,
            "current_password": "nope",
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        }
        refused = here.post("/account/password", data=wrong)
        assert (
            refused.status_code == 422
            and "current_password is not your current password" in refused.text
        )
        common = {
            **wrong,
            "current_password": PASSWORD,
            "new_password": "baseball2024!",
            "new_password_again": "baseball2024!",
        }
        assert "is a common password" in here.post("/account/password", data=common).text
        good = {**wrong, "current_password": PASSWORD}
        changed = here.post("/account/password", data=good)
        assert changed.status_code == 200 and "Your password is changed" in changed.text
        assert here.get("/", follow_redirects=False).status_code == 200
        assert elsewhere.get("/", follow_redirects=False).status_code == 303
        log_in(elsewhere, "viewer", password=NEW_PASSWORD)


def test_failed_logins_make_an_account_and_an_address_wait(client: TestClient) -> None:
    add_user(client.app.state.engine, "editor")  # type: ignore[attr-defined]
    started = datetime.now(UTC)
    wrong = {"email": email_of("editor"), "password": "not at all", "csrf": form_token(client)}
    statuses = [client.post("/login", data=wrong).status_code for _ in range(5)]
    assert statuses == [401] * 5
    engine = client.app.state.engine  # type: ignore[attr-defined]
    subjects = login_throttle.subjects(email_of("editor"), "testclient")
    with Session(engine) as session:
        assert login_throttle.seconds_to_wait(session, subjects[:1], started) > 0
        assert login_throttle.seconds_to_wait(session, subjects[1:], started) > 0
    # Eight failures of the address: the next login waits 8 s, whatever the account.
    add_user(engine, "viewer")
    with session_scope(engine) as session:
        login_throttle.clear(session, subjects[0])
        for _ in range(3):
            login_throttle.record_failure(session, subjects[1:])
    right = {"email": email_of("viewer"), "password": PASSWORD, "csrf": form_token(client)}
    waiting = client.post("/login", data=right)
    assert waiting.status_code == 429 and "Too many failed logins" in waiting.text
    assert 1 <= int(waiting.headers["retry-after"]) <= 8


def test_the_waits_grow_and_are_forgotten_after_an_hour(sqlite_url: str) -> None:
    assert [login_throttle.wait_after(n).total_seconds() for n in (5, 6, 7, 14, 40)] == [
        1,
        2,
        4,
        512,
        900,
    ]
    engine = make_engine(sqlite_url)
    try:
        now = datetime(2026, 12, 1, tzinfo=UTC)
        names = ["account:a@example.com"]
        with session_scope(engine) as session:
            for _ in range(4):
                login_throttle.record_failure(session, names, now)
            assert login_throttle.seconds_to_wait(session, names, now) == 0
            login_throttle.record_failure(session, names, now)
            assert login_throttle.seconds_to_wait(session, names, now) == 1
            later = now + timedelta(hours=2)
            login_throttle.record_failure(session, names, later)  # counted from 1 again
            assert login_throttle.seconds_to_wait(session, names, later) == 0
    finally:
        engine.dispose()
