"""Every route of the API checks its key's scope: a walk over the OpenAPI proves that each
refuses a key below its scope with 403 and lets a key of its scope through (whatever the
request then says: a 404 for a made-up experiment, a 422 for an empty body)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from experiments import keys
from experiments.db import make_engine, session_scope
from experiments.migrate import upgrade
from experiments.models.api_key import KeyScope
from experiments.settings import load_settings

READERS = {"viewer", "editor", "admin"}
WRITERS = {"editor", "admin"}
ADMINS = {"admin"}
SDK = {"sdk", "server", "admin"}
CALCULATOR = SDK | READERS

#: Who may call each route of the API; a new route must be added here to pass.
ACCEPTED: dict[tuple[str, str], set[str]] = {
    ("POST", "/v1/assign"): SDK,
    ("POST", "/v1/events"): SDK,
    ("GET", "/v1/sdk/config"): SDK,
    ("GET", "/v1/sdk/preview"): SDK,
    ("GET", "/v1/events/summary"): READERS,
    ("GET", "/v1/experiments"): READERS,
    ("GET", "/v1/experiments/{key}"): READERS,
    ("GET", "/v1/experiments/{key}/history"): READERS,
    ("GET", "/v1/experiments/{key}/results"): READERS,
    ("GET", "/v1/experiments/{key}/results/timeseries"): READERS,
    ("GET", "/v1/metrics"): READERS,
    ("GET", "/v1/audit"): READERS,
    ("POST", "/v1/experiments"): WRITERS,
    ("PATCH", "/v1/experiments/{key}"): WRITERS,
    ("POST", "/v1/experiments/{key}/start"): WRITERS,
    ("POST", "/v1/experiments/{key}/stop"): WRITERS,
    ("POST", "/v1/experiments/{key}/archive"): WRITERS,
    ("POST", "/v1/experiments/{key}/reshuffle"): WRITERS,
    ("POST", "/v1/experiments/{key}/snapshots"): WRITERS,
    ("POST", "/v1/experiments/{key}/counts"): WRITERS,
    ("POST", "/v1/metrics"): WRITERS,
    ("GET", "/v1/holdouts"): READERS,
    ("GET", "/v1/holdouts/{key}"): READERS,
    ("GET", "/v1/holdouts/{key}/history"): READERS,
    ("GET", "/v1/holdouts/{key}/results"): READERS,
    ("POST", "/v1/holdouts"): WRITERS,
    ("POST", "/v1/holdouts/{key}/stop"): WRITERS,
    ("GET", "/v1/webhooks"): ADMINS,
    ("POST", "/v1/webhooks"): ADMINS,
    ("DELETE", "/v1/webhooks/{webhook_id}"): ADMINS,
    ("GET", "/v1/webhooks/{webhook_id}/deliveries"): ADMINS,
    ("GET", "/metrics"): ADMINS,  # or the metrics token (tests/api/observability)
    ("POST", "/v1/stats/analyze"): CALCULATOR,
    ("POST", "/v1/stats/sample-size"): CALCULATOR,
}
#: Routes without a key in the header: health for load balancers, and the beacon, whose sdk
#: key comes in its body (tested below).
PUBLIC = {("GET", "/healthz"), ("GET", "/readyz"), ("POST", "/v1/events/beacon")}
SCOPES = [scope.value for scope in KeyScope]
Keyed = tuple[TestClient, dict[str, str]]


@pytest.fixture(scope="module")
def keyed_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keyed]:
    url = f"sqlite:///{tmp_path_factory.mktemp('scopes') / 'vekst.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        secrets = {s.value: keys.create_key(session, s, f"{s.value} key").secret for s in KeyScope}
    engine.dispose()
    with TestClient(create_app(load_settings(database_url=url, start_scheduler=False))) as client:
        yield client, secrets


def _call(client: TestClient, method: str, path: str, secret: str) -> int:
    url = path.replace("{key}", "no-such-experiment").replace("{webhook_id}", "999999")
    body: dict[str, object] | None = {} if method in ("POST", "PATCH") else None
    headers = {"Authorization": f"Bearer {secret}"}
    return client.request(method, url, json=body, headers=headers).status_code


def test_every_route_of_the_api_has_a_scope(keyed_client: Keyed) -> None:
    client, _ = keyed_client
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    served = {(method.upper(), path) for path, operations in paths.items() for method in operations}
    assert served == set(ACCEPTED) | PUBLIC


@pytest.mark.parametrize(("method", "path"), sorted(ACCEPTED))
def test_each_route_refuses_a_key_below_its_scope_and_takes_its_own(
    keyed_client: Keyed, method: str, path: str
) -> None:
    client, secrets = keyed_client
    for scope in SCOPES:
        status = _call(client, method, path, secrets[scope])
        if scope in ACCEPTED[(method, path)]:
            assert status not in (401, 403), (scope, status)
        else:
            assert status == 403, (scope, status)


def test_the_beacon_takes_only_an_sdk_key(keyed_client: Keyed) -> None:
    client, secrets = keyed_client
    for scope in SCOPES:
        body = {"sdk_key": secrets[scope], "events": []}
        status = client.post("/v1/events/beacon", json=body).status_code
        assert (status == 403) == (scope != "sdk"), (scope, status)
