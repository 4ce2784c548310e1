"""Metrics, webhooks, keys and the audit log on the page: list, create (secrets shown once),
delete or revoke, deliveries, and the log filtered."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.accounts import log_in
from tests.api.pages.workspace.helpers import (
    CTA_FORM,
    field_errors,
    post_form,
    token,
)
from tests.conftest import ADMIN_KEY

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
WISHLIST = {
    "key": "wishlist_rate",
    "name": "Wishlist rate",
    "kind": "conversion",
    "numerator_event": "add_to_wishlist",
    "numerator_aggregation": "any",
    "denominator_aggregation": "count",
    "pasted_field": "",
    "sources": ["server", "admin"],
}


def test_custom_metrics_are_listed_and_created(editor: TestClient) -> None:
    listing = editor.get("/catalogue").text
    assert 'id="metric-conversion_rate"' in listing and 'id="m-key"' in listing
    assert post_form(editor, "/catalogue", WISHLIST).status_code == 303
    stored = {m["key"]: m for m in editor.get("/v1/metrics", headers=ADMIN).json()}
    assert stored["wishlist_rate"]["sources"] == ["server", "admin"]
    assert 'id="metric-wishlist_rate"' in editor.get("/catalogue").text
    taken = post_form(editor, "/catalogue", WISHLIST)
    assert taken.status_code == 422 and "exists already" in field_errors(taken.text)["key"]
    builtin = post_form(editor, "/catalogue", {**WISHLIST, "key": "aov"})
    assert "is a built-in metric" in field_errors(builtin.text)["key"]
    ratio = post_form(editor, "/catalogue", {**WISHLIST, "key": "r", "kind": "ratio"})
    assert field_errors(ratio.text)["denominator_event"] == "is required for a ratio metric"
    window = post_form(editor, "/catalogue", {**WISHLIST, "key": "w", "window_hours": "-3"})
    assert field_errors(window.text)["window_hours"] == "must be > 0"
    # The new metric is offered in the experiment form.
    assert 'value="wishlist_rate"' in editor.get("/experiments/new").text


def test_webhooks_secret_shown_once_then_deliveries_and_delete(admin: TestClient) -> None:
    made = post_form(
        admin, "/webhooks", {"url": "http://127.0.0.1:9/hook", "events": ["srm_detected"]}
    )
    assert made.status_code == 201
    secret = re.search(r'<code id="secret">([^<]+)</code>', made.text)
    assert secret is not None and len(secret.group(1)) >= 32
    listing = admin.get("/webhooks").text
    assert secret.group(1) not in listing and "http://127.0.0.1" in listing
    assert "/hook" not in listing  # scheme and host only
    webhook_id = admin.get("/v1/webhooks", headers=ADMIN).json()[0]["id"]
    assert admin.get(f"/webhooks/{webhook_id}/deliveries").status_code == 200
    bad = post_form(admin, "/webhooks", {"url": "ftp://example", "events": []})
    assert bad.status_code == 422
    errors = field_errors(bad.text)
    assert "url" in errors and errors["events"] == "must have at least 1 items"
    short = post_form(
        admin,
        "/webhooks",
        {"url": "http://127.0.0.1:9/", "events": ["srm_detected"], "secret": "short"},
    )
    assert "secret" in field_errors(short.text)
    assert post_form(admin, f"/webhooks/{webhook_id}/delete", {}).status_code == 303
    assert admin.get("/v1/webhooks", headers=ADMIN).json() == []
    assert admin.get(f"/webhooks/{webhook_id}/deliveries").status_code == 404


def test_keys_shown_once_and_revoked(admin: TestClient) -> None:
    made = post_form(admin, "/keys", {"scope": "sdk", "name": "shop pages"})
    assert made.status_code == 201
    secret = re.search(r'<code id="secret">([^<]+)</code>', made.text)
    assert secret is not None and secret.group(1).startswith("vk_sdk_")
    assert secret.group(1) not in admin.get("/keys").text
    config = admin.get("/v1/sdk/config", headers={"Authorization": f"Bearer {secret.group(1)}"})
    assert config.status_code == 200
    key_id = re.search(r'<tr id="key-(\d+)">', admin.get("/keys").text)
    assert key_id is not None
    assert post_form(admin, f"/keys/{key_id.group(1)}/revoke", {}).status_code == 303
    assert "revoked" in admin.get("/keys").text
    again = post_form(admin, f"/keys/{key_id.group(1)}/revoke", {})
    assert again.status_code == 404
    scope = post_form(admin, "/keys", {"scope": "root", "name": "x"})
    assert field_errors(scope.text)["scope"].startswith("must be one of viewer, editor, admin, sdk")


def test_the_audit_log_is_filtered_and_names_who(admin: TestClient) -> None:
    assert post_form(admin, "/experiments/new", CTA_FORM).status_code == 303
    assert post_form(admin, "/catalogue", WISHLIST).status_code == 303
    assert post_form(admin, "/keys", {"scope": "server", "name": "backend"}).status_code == 201
    everything = admin.get("/audit").text
    assert everything.count("<tr data-entry=") == 4  # and the admin account's creation
    assert "admin@example.com" in everything  # who did it: the user logged in
    metrics = admin.get("/audit", params={"entity": "metric"}).text
    assert metrics.count("<tr data-entry=") == 1 and "wishlist_rate" in metrics
    one = admin.get("/audit", params={"entity_key": "cta-text", "since": "2000-01-01"}).text
    assert one.count("<tr data-entry=") == 1
    nobody = admin.get("/audit", params={"actor": "someone else"}).text
    assert "No entries match." in nobody
    percent = admin.get("/audit", params={"actor": "%"}).text
    assert "No entries match." in percent  # LIKE's wildcards are matched literally
    history = admin.get("/experiments/cta-text/history").text
    assert "admin@example.com" in history and "created" in history


def test_a_viewer_sees_no_write_control_and_a_forged_post_is_refused(
    editor: TestClient,
) -> None:
    """A viewer's session (a real account with the viewer role) shows no write control, and a
    forged post carrying that session's own CSRF token is still a 403."""
    assert post_form(editor, "/experiments/new", CTA_FORM).status_code == 303
    log_in(editor, "viewer")  # the same browser, now a viewer's session
    csrf = token(editor, "/account")
    listing = editor.get("/").text
    assert 'id="new-experiment"' not in listing and 'href="/keys"' not in listing
    page = editor.get("/experiments/cta-text").text
    assert 'id="edit-link"' not in page and 'id="history-link"' in page
    assert "Start the experiment" not in page
    assert 'id="m-key"' not in editor.get("/catalogue").text
    assert editor.get("/audit").status_code == 200
    for path in ("/experiments/new", "/experiments/cta-text/edit", "/keys", "/webhooks"):
        assert editor.get(path, headers={"Accept": "text/html"}).status_code == 403, path
    for path, form in [
        ("/experiments/new", {**CTA_FORM, "key": "forged"}),
        ("/experiments/cta-text/edit", CTA_FORM),
        ("/experiments/cta-text/archive", {"confirm": "yes"}),
        ("/catalogue", WISHLIST),
        ("/keys", {"scope": "admin", "name": "mine now"}),
    ]:
        forged = post_form(editor, path, form, csrf=csrf)
        assert forged.status_code == 403, path
    assert editor.get("/v1/experiments", headers=ADMIN).json()["total"] == 1
