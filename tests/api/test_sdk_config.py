"""GET /v1/sdk/config: only served experiments, ETag and 304, sdk scope, CORS."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from experiments.settings import load_settings
from tests.api.helpers import create, experiment_body
from vekst_sdk.spec import override_digest

Headers = dict[str, str]


def test_config_lists_running_and_stopped_only(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers
) -> None:
    for key in ("draft-one", "running-one", "stopped-one", "archived-one"):
        create(client, admin_headers, key=key)
    for key in ("running-one", "stopped-one"):
        client.post(f"/v1/experiments/{key}/start", headers=admin_headers)
    client.post(
        "/v1/experiments/stopped-one/stop", json={"winner": "one-page"}, headers=admin_headers
    )
    client.post("/v1/experiments/archived-one/archive", headers=admin_headers)
    response = client.get("/v1/sdk/config", headers=sdk_headers)
    assert response.status_code == 200
    document = response.json()
    assert document["version"] == 1
    entries = {entry["key"]: entry for entry in document["experiments"]}
    assert set(entries) == {"running-one", "stopped-one"}
    stopped = entries["stopped-one"]
    assert stopped["status"] == "stopped" and stopped["winner"] == "one-page"
    running = entries["running-one"]
    assert running["variants"][1] == {
        "key": "one-page",
        "weight": 1.0,
        "payload": {"layout": "one"},
    }
    assert running["salt"] and running["layer"] is None and running["traffic"] == 1.0


def test_override_ids_are_published_only_as_digests(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers
) -> None:
    create(client, admin_headers)
    client.post("/v1/experiments/checkout-onepage/start", headers=admin_headers)
    overrides = {"ceo@shop.example": "one-page", "customer-10443": "multi-step"}
    patched = client.patch(
        "/v1/experiments/checkout-onepage", json={"overrides": overrides}, headers=admin_headers
    )
    assert patched.status_code == 200, patched.text
    response = client.get("/v1/sdk/config", headers=sdk_headers)
    assert b"ceo@shop.example" not in response.content
    assert b"customer-10443" not in response.content
    entry = response.json()["experiments"][0]
    assert "overrides" not in entry
    assert entry["override_hashes"] == {
        override_digest(entry["salt"], "ceo@shop.example"): "one-page",
        override_digest(entry["salt"], "customer-10443"): "multi-step",
    }
    # The admin API, and only it, keeps showing the ids themselves.
    shown = client.get("/v1/experiments/checkout-onepage", headers=admin_headers).json()
    assert shown["overrides"] == overrides


def test_etag_and_304(client: TestClient, admin_headers: Headers, sdk_headers: Headers) -> None:
    create(client, admin_headers)
    client.post("/v1/experiments/checkout-onepage/start", headers=admin_headers)
    first = client.get("/v1/sdk/config", headers=sdk_headers)
    etag = first.headers["etag"]
    again = client.get("/v1/sdk/config", headers={**sdk_headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag and again.content == b""
    client.patch("/v1/experiments/checkout-onepage", json={"traffic": 1.0}, headers=admin_headers)
    client.post("/v1/experiments/checkout-onepage/stop", headers=admin_headers)
    changed = client.get("/v1/sdk/config", headers={**sdk_headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_layer_ranges_are_in_the_config(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers
) -> None:
    body = experiment_body(key="cta-a", template="cta", layer="cta", traffic=0.25)
    client.post("/v1/experiments", json=body, headers=admin_headers)
    client.post("/v1/experiments/cta-a/start", headers=admin_headers)
    entry = client.get("/v1/sdk/config", headers=sdk_headers).json()["experiments"][0]
    assert entry["layer"] == {"key": "cta", "ranges": [[0, 2500]]}


def test_config_needs_a_key(client: TestClient, admin_headers: Headers) -> None:
    assert client.get("/v1/sdk/config").status_code == 401
    assert client.get("/v1/sdk/config", headers=admin_headers).status_code == 200


def test_cors_exposes_etag(sqlite_url: str, sdk_headers: Headers) -> None:
    settings = load_settings(
        database_url=sqlite_url,
        sdk_key=sdk_headers["Authorization"].split()[1],
        cors_origins="https://shop.example",
    )
    with TestClient(create_app(settings)) as client:
        response = client.get(
            "/v1/sdk/config", headers={**sdk_headers, "Origin": "https://shop.example"}
        )
    assert response.headers["access-control-allow-origin"] == "https://shop.example"
    assert "etag" in response.headers["access-control-expose-headers"].lower()
