"""The audit log: every change to an experiment, a metric or a key, who made it, field by field;
readable by admin keys only, and append-only (no route edits or deletes an entry)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from experiments import keys
from experiments.db import make_engine, session_scope
from experiments.models.api_key import KeyScope
from experiments.models.audit import AuditEntry
from experiments.settings import Settings
from tests.api.helpers import URL, Headers, assert_problem, create, create_conversion_metric, start
from tests.api.test_newsletter import KEY as NEWSLETTER
from tests.api.test_newsletter import counts, sent_days_ago

ENVIRONMENT_ADMIN = {"key_id": None, "key_name": "environment admin key"}


def history(client: TestClient, headers: Headers, key: str = "checkout-onepage") -> Any:
    response = client.get(f"/v1/experiments/{key}/history", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def stored_key(settings: Settings, name: str) -> keys.IssuedKey:
    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        issued = keys.create_key(session, KeyScope.ADMIN, name)
    engine.dispose()
    return issued


def test_every_change_of_an_experiment_is_recorded(
    client: TestClient, admin_headers: Headers
) -> None:
    create(client, admin_headers)
    client.patch(URL, json={"name": "One page", "design": {"alpha": 0.01}}, headers=admin_headers)
    start(client, admin_headers)
    client.patch(URL, json={"traffic": 1.0}, headers=admin_headers)  # no change: no entry
    client.post(f"{URL}/stop", json={"winner": "one-page"}, headers=admin_headers)
    client.post(f"{URL}/archive", headers=admin_headers)

    entries = history(client, admin_headers)
    actions = [entry["action"] for entry in entries]
    assert actions == ["created", "updated", "started", "stopped", "archived"]
    assert all(
        {"key_id": entry["key_id"], "key_name": entry["key_name"]} == ENVIRONMENT_ADMIN
        for entry in entries
    )
    assert [entry["id"] for entry in entries] == sorted(entry["id"] for entry in entries)
    created, updated, started, stopped, archived = (entry["changes"] for entry in entries)
    assert created["name"] == {"before": None, "after": "One-page checkout"}
    assert created["metrics"]["after"]["primary"] == "conversion_rate"
    assert updated == {
        "name": {"before": "One-page checkout", "after": "One page"},
        "design.alpha": {"before": 0.05, "after": 0.01},
    }
    assert started["status"] == {"before": "draft", "after": "running"}
    assert started["started_at"]["before"] is None
    assert stopped["winner"] == {"before": None, "after": "one-page"}
    assert archived == {"status": {"before": "stopped", "after": "archived"}}


def test_a_stored_key_is_recorded_by_id_and_name_never_by_secret(
    client: TestClient, settings: Settings
) -> None:
    issued = stored_key(settings, "marketing laptop")
    headers = {"Authorization": f"Bearer {issued.secret}"}
    create(client, headers)
    (entry,) = history(client, headers)
    assert (entry["key_id"], entry["key_name"]) == (issued.id, "marketing laptop")
    log = client.get("/v1/audit", headers=headers).text
    assert issued.secret not in log and keys.hash_key(issued.secret) not in log


def test_refused_changes_leave_no_entry(client: TestClient, admin_headers: Headers) -> None:
    create(client, admin_headers)
    start(client, admin_headers)
    response = client.patch(URL, json={"design": {"alpha": 0.1}}, headers=admin_headers)
    assert_problem(response, 409)
    assert [entry["action"] for entry in history(client, admin_headers)] == ["created", "started"]


def test_metrics_and_keys_are_recorded(
    client: TestClient, admin_headers: Headers, settings: Settings
) -> None:
    create_conversion_metric(
        client, admin_headers, "newsletter_signup", "Newsletter sign-up", "newsletter_signup"
    )
    issued = stored_key(settings, "shop backend")
    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        keys.revoke_key(session, str(issued.id))
    engine.dispose()

    items = client.get("/v1/audit", headers=admin_headers).json()["items"]
    summary = [(i["entity"], i["entity_key"], i["action"], i["key_name"]) for i in items]
    assert summary == [
        ("metric", "newsletter_signup", "created", "environment admin key"),
        ("key", str(issued.id), "created", "command line"),
        ("key", str(issued.id), "revoked", "command line"),
    ]
    assert items[0]["changes"]["numerator_event"] == {"before": None, "after": "newsletter_signup"}
    assert items[1]["changes"]["name"]["after"] == "shop backend"
    assert items[2]["changes"]["revoked_at"]["before"] is None
    assert all(issued.secret not in str(item) for item in items)


def test_audit_pages_in_a_stable_order(client: TestClient, admin_headers: Headers) -> None:
    for index in range(5):
        create(client, admin_headers, key=f"exp-{index}")
    first = client.get("/v1/audit?limit=2", headers=admin_headers).json()
    assert [item["entity_key"] for item in first["items"]] == ["exp-0", "exp-1"]
    seen = [item["id"] for item in first["items"]]
    after = first["next_after"]
    while after is not None:
        page = client.get(f"/v1/audit?limit=2&after={after}", headers=admin_headers).json()
        seen += [item["id"] for item in page["items"]]
        after = page["next_after"]
    assert len(seen) == 5 and seen == sorted(seen)

    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert client.get("/v1/audit", params={"since": future}, headers=admin_headers).json() == {
        "items": [],
        "next_after": None,
    }
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    everything = client.get("/v1/audit", params={"since": past}, headers=admin_headers).json()
    assert len(everything["items"]) == 5


def test_audit_input_rules(client: TestClient, admin_headers: Headers) -> None:
    response = client.get(
        "/v1/audit", params={"since": "2026-01-01T00:00:00"}, headers=admin_headers
    )
    assert_problem(response, 422, "since")
    assert_problem(client.get("/v1/audit?limit=0", headers=admin_headers), 422, "limit")
    assert_problem(client.get("/v1/experiments/nope/history", headers=admin_headers), 404)


def test_only_admin_keys_read_the_log(client: TestClient, sdk_headers: Headers) -> None:
    assert client.get("/v1/audit", headers=sdk_headers).status_code == 403
    assert client.get(f"{URL}/history", headers=sdk_headers).status_code == 403


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "POST"])
def test_the_log_is_append_only(
    client: TestClient, admin_headers: Headers, settings: Settings, method: str
) -> None:
    create(client, admin_headers)
    assert client.request(method, "/v1/audit", headers=admin_headers).status_code == 405
    response = client.request(method, f"{URL}/history", headers=admin_headers)
    assert response.status_code == 405
    engine = make_engine(settings.database_url)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(AuditEntry)).scalar() == 1
    engine.dispose()


def test_pasted_counts_are_recorded_with_who_pasted_them(
    client: TestClient, admin_headers: Headers, settings: Settings
) -> None:
    sent = sent_days_ago(client, admin_headers, settings)
    issued = stored_key(settings, "mail desk")
    headers = {"Authorization": f"Bearer {issued.secret}"}
    as_of = sent + timedelta(days=3)
    pasted = client.post(
        f"/v1/experiments/{NEWSLETTER}/counts", json=counts(as_of, 60, 90), headers=headers
    )
    assert pasted.status_code == 201, pasted.text
    refused = client.post(  # a refused paste records nothing
        f"/v1/experiments/{NEWSLETTER}/counts", json={"variants": []}, headers=headers
    )
    assert refused.status_code == 422

    items = client.get("/v1/audit", headers=admin_headers).json()["items"]
    (entry,) = [item for item in items if item["entity"] == "counts"]
    assert (entry["entity_key"], entry["action"]) == (NEWSLETTER, "created")
    assert (entry["key_id"], entry["key_name"]) == (issued.id, "mail desk")
    assert entry["changes"]["as_of"] == {"before": None, "after": as_of.isoformat()}
    assert entry["changes"]["variants"]["after"] == {
        "control": {"sent": 2000, "opened": 500, "clicked": 60, "unsubscribed": 4},
        "subject-b": {"sent": 2000, "opened": 540, "clicked": 90},
    }
    shown = history(client, admin_headers, NEWSLETTER)
    assert [(e["entity"], e["action"]) for e in shown] == [
        ("experiment", "created"),
        ("experiment", "started"),
        ("counts", "created"),
    ]
