"""The pages over HTTP: login and its cookie, CSRF, confirmations, the list.

On SQLite only: these prove what the pages say and which requests they refuse; the queries
behind them run on both databases in their own tests (the list's newest looks in
tests/experiments/results/test_overview.py, sessions in test_sessions.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import escape

from fastapi.testclient import TestClient

from api.app import create_app
from api.pages.sessions import COOKIE_NAME
from experiments.db import make_engine, session_scope
from experiments.models.event import Conversion, Exposure
from experiments.settings import Settings
from tests.accounts import PASSWORD, add_user, email_of, form_token, log_in
from tests.api.helpers import experiment_body, load_past_week, start_checkout
from tests.conftest import ADMIN_KEY
from tests.databases import sqlite_only

pytestmark = sqlite_only


def csrf_of(html: str) -> str:
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def test_pages_need_a_session_and_the_password_stays_out_of_pages(client: TestClient) -> None:
    for path in ("/", "/experiments/anything", "/experiments/anything/stop", "/users"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login"
    add_user(client.app.state.engine, "editor")  # type: ignore[attr-defined]
    # The login form has its own CSRF token (no session yet): without it, nothing is checked.
    unsigned = client.post("/login", data={"email": email_of("editor"), "password": PASSWORD})
    assert unsigned.status_code == 422 and COOKIE_NAME not in unsigned.cookies
    assert "csrf the form is stale" in unsigned.text
    token = form_token(client)
    wrong = {"email": email_of("editor"), "password": PASSWORD + "!", "csrf": token}
    refused = client.post("/login", data=wrong)
    assert refused.status_code == 401
    assert "do not match an active account" in refused.text
    assert PASSWORD not in refused.text and COOKIE_NAME not in refused.cookies
    # An API key is no password: the pages are for people.
    as_key = client.post(
        "/login", data={"email": email_of("editor"), "password": ADMIN_KEY, "csrf": token}
    )
    assert as_key.status_code == 401
    right = {"email": " Editor@Example.COM ", "password": PASSWORD, "csrf": token}  # normalised
    login = client.post("/login", data=right, follow_redirects=False)
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    assert PASSWORD not in cookie
    listing = client.get("/")
    assert listing.status_code == 200
    assert PASSWORD not in listing.text and "editor@example.com (editor)" in listing.text
    assert "default-src 'none'" in listing.headers["content-security-policy"]
    tampered = (client.cookies.get(COOKIE_NAME) or "")[:-2] + "xx"
    client.cookies.clear()
    client.cookies.set(COOKIE_NAME, tampered)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_cookie_is_secure_over_https(settings: Settings) -> None:
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        add_user(client.app.state.engine)  # type: ignore[attr-defined]
        form = {"email": email_of("admin"), "password": PASSWORD, "csrf": form_token(client)}
        login = client.post("/login", data=form, follow_redirects=False)
        assert "Secure" in login.headers["set-cookie"]


def test_start_and_stop_need_the_confirmation_and_the_csrf_token(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    body = experiment_body(key="cta-test")
    assert client.post("/v1/experiments", json=body, headers=admin_headers).status_code == 201
    log_in(client)
    detail = client.get("/experiments/cta-test")
    assert "Start the experiment" in detail.text and "Stop the experiment" not in detail.text
    # A draft shows what will decide, who is in it and the plan before it starts.
    for fact in ("Deciding metric", "Purchase conversion (conversion_rate)", "100 % of visitors"):
        assert fact in detail.text, fact
    assert "<dt>Targeting</dt><dd>everyone</dd>" in detail.text
    assert "<dt>Planned</dt><dd>set when the experiment starts</dd>" in detail.text
    confirmation = client.get("/experiments/cta-test/start")
    token = csrf_of(confirmation.text)
    forged = client.post("/experiments/cta-test/start", data={"csrf": "x", "confirm": "yes"})
    assert forged.status_code == 422 and "csrf" in forged.text
    unconfirmed = client.post("/experiments/cta-test/start", data={"csrf": token})
    assert unconfirmed.status_code == 422
    assert client.get("/v1/experiments/cta-test", headers=admin_headers).json()["status"] == "draft"
    started = client.post(
        "/experiments/cta-test/start",
        data={"csrf": token, "confirm": "yes"},
        follow_redirects=False,
    )
    assert started.status_code == 303
    assert client.get("/v1/experiments/cta-test", headers=admin_headers).json()["status"] == (
        "running"
    )
    page = client.get("/experiments/cta-test")
    assert "Stop the experiment" in page.text and "<svg" not in page.text  # no looks with data
    stop_form = client.get("/experiments/cta-test/stop")
    assert 'name="winner"' in stop_form.text
    assert "The data says: Keep running" in stop_form.text  # the verdict restated
    assert '<option value="" selected>' in stop_form.text  # no winner named: the control
    form = {"csrf": csrf_of(stop_form.text), "confirm": "yes", "winner": "one-page"}
    # A winner with no data asks for a second confirmation and a reason in words.
    cautioned = client.post("/experiments/cta-test/stop", data=form, follow_redirects=False)
    assert cautioned.status_code == 409
    assert "one-page has fewer than the minimum data for a reading" in cautioned.text
    assert '<option value="one-page" selected>' in cautioned.text
    no_reason = {**form, "unproven": "yes", "reason": " "}
    assert client.post("/experiments/cta-test/stop", data=no_reason).status_code == 409
    assert client.get("/v1/experiments/cta-test", headers=admin_headers).json()["status"] == (
        "running"
    )
    stopped = client.post(
        "/experiments/cta-test/stop",
        data={**form, "unproven": "yes", "reason": "the new design is our brand standard"},
        follow_redirects=False,
    )
    assert stopped.status_code == 303
    history = client.get("/v1/experiments/cta-test/history", headers=admin_headers).json()
    assert [entry["action"] for entry in history][-1] == "stopped"
    # The audit log names the person who stopped it.
    assert history[-1]["key_name"] == "admin@example.com" and history[-1]["user_id"] is not None
    # The reason in words is on the stop's audit entry, not in the server log.
    assert history[-1]["changes"]["stop_reason"] == {
        "before": None,
        "after": "the new design is our brand standard",
    }
    assert client.post("/experiments/cta-test/launch", data={}).status_code == 422


def test_list_filters_by_status(client: TestClient, admin_headers: dict[str, str]) -> None:
    for key in ("first-test", "second-test"):
        client.post("/v1/experiments", json=experiment_body(key=key), headers=admin_headers)
    client.post("/v1/experiments/second-test/start", headers=admin_headers)
    log_in(client)
    everything = client.get("/").text
    assert "first-test" in everything and "second-test" in everything
    running = client.get("/", params={"status": "running"}).text
    assert "second-test" in running and "first-test" not in running
    assert client.get("/", params={"status": "bogus"}).status_code == 422
    assert client.get("/static/vekst.css").status_code == 200


def test_an_unknown_experiment_is_a_404_and_an_unknown_action_a_422(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    client.post("/v1/experiments", json=experiment_body(key="known-test"), headers=admin_headers)
    log_in(client)
    assert client.get("/experiments/no-such-test").status_code == 404
    # The experiment is looked up (after the login check) before the action is read.
    assert client.get("/experiments/no-such-test/launch").status_code == 404
    assert client.get("/experiments/known-test/launch").status_code == 422
    assert client.get("/experiments/known-test/start").status_code == 200


def test_the_page_says_what_the_plan_is_sized_for_and_what_a_cap_measures(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    metrics = {"primary": "conversion_rate", "secondary": ["aov"], "cap_percentiles": {"aov": 99}}
    key = start_checkout(client, admin_headers, key="capped", metrics=metrics)
    load_past_week(settings.database_url, key, 800, seed=8)
    page = client.get(f"/v1/experiments/{key}/results", headers=admin_headers).json()
    log_in(client)
    html = client.get(f"/experiments/{key}").text
    # Six days in: the plan is the assumed one, and the page says when it is re-derived.
    assert page["plan"]["planned_from"] == "assumption"
    assert "Planned for an assumed 2.5 %" in page["plan"]["text"]
    assert escape(page["plan"]["text"]) in html
    aov = next(metric for metric in page["metrics"] if metric["metric"] == "aov")
    assert aov["cap"]["description"].startswith("Each visitor counted up to ")
    assert escape(aov["cap"]["description"]) in html


def test_a_stopped_experiment_leads_with_what_was_done(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    key = start_checkout(client, admin_headers, key="shipped")
    load_past_week(settings.database_url, key, 400, seed=3)
    stop = client.post(
        f"/v1/experiments/{key}/stop", json={"winner": "one-page"}, headers=admin_headers
    )
    stopped_on = datetime.fromisoformat(stop.json()["stopped_at"])
    shipped = f"Shipped one-page on {stopped_on.day} {stopped_on:%B %Y}"
    log_in(client)
    html = client.get(f"/experiments/{key}").text
    heading = html[html.index('id="headline"') :]
    assert heading[heading.index(">") + 1 :].startswith(shipped)
    assert "At the stop the data said: Keep running." in html
    assert ">Keep running<" not in html
    listing = client.get("/").text
    row = listing[listing.index(f"/experiments/{key}") :]
    assert shipped in row and row.index(shipped) < row.index("the data said: Keep running")


def test_the_page_says_how_old_the_look_is_and_shows_events_as_they_arrive(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    key = start_checkout(client, admin_headers, key="fresh")
    log_in(client)
    first = client.get(f"/experiments/{key}").text
    assert "Look</abbr> 1, as of " in first and ", just now; next look about " in first
    assert 'data-missing="purchase"' in first  # the checkout's metrics wait for purchases
    now = datetime.now(UTC)
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            for index, moment in enumerate((now, now, now - timedelta(hours=2))):
                session.add(
                    Exposure(
                        event_id=f"e{index}",
                        experiment=key,
                        variant="one-page",
                        unit_id=f"u{index}",
                        timestamp=moment,
                        received_at=now,
                    )
                )
            session.add(
                Conversion(
                    event_id="c0",
                    name="purchase",
                    unit_id="u0",
                    value=649.0,
                    timestamp=now,
                    received_at=now,
                )
            )
    finally:
        engine.dispose()
    page = client.get(f"/experiments/{key}").text
    live = page[page.index('id="live"') :]
    assert "multi-step: 0; one-page: 2" in live  # the last hour only, before any new look
    assert "<code>purchase</code></dt><dd>1</dd>" in live
    assert 'data-missing="purchase"' not in page
    assert "Look</abbr> 1, as of " in page  # the figures wait for the next look ...
    refused = client.post(f"/experiments/{key}/looks", data={"csrf": "forged"})
    assert refused.status_code == 422
    taken = client.post(
        f"/experiments/{key}/looks", data={"csrf": csrf_of(page)}, follow_redirects=False
    )
    assert taken.status_code == 303
    assert "Look</abbr> 2, as of " in client.get(f"/experiments/{key}").text  # ... or one taken now


def test_a_browser_gets_an_error_page_with_a_way_back_and_an_api_client_json(
    client: TestClient,
) -> None:
    log_in(client)
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    missing = client.get("/experiments/no-such-test", headers=browser)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert (
        "<h1>Not found</h1>" in missing.text and '<a href="/">← All experiments</a>' in missing.text
    )
    mistyped = client.get("/experimnts/checkout", headers=browser)
    assert mistyped.status_code == 404 and '<a href="/">' in mistyped.text
    api = client.get("/v1/experiments/no-such-test", headers={**browser, "Authorization": "x"})
    assert api.headers["content-type"] == "application/problem+json"
    assert client.get("/experiments/no-such-test").headers["content-type"] == (
        "application/problem+json"
    )
