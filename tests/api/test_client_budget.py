"""The public routes' budget per client address: one client flooding with the public sdk key
spends its own bucket, never another client's; a forwarding header counts only from a trusted
proxy; secret keys get the key's bucket only; bodies are capped per route."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from api.app import create_app
from api.routes import events
from experiments.events import parse_document
from experiments.settings import load_settings
from tests.api.helpers import assert_problem, purchase, running_experiment
from tests.conftest import ADMIN_KEY, SDK_KEY

Headers = dict[str, str]
SDK = {"Authorization": f"Bearer {SDK_KEY}"}
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
FLOODER, VISITOR, PROXY = "203.0.113.7", "198.51.100.9", "10.0.0.1"
# Low rates: no bucket refills noticeably while a test runs.
BUDGETS = {
    "events_rate_per_second": 0.01,
    "events_burst": 50,
    "client_events_rate_per_second": 0.01,
    "client_events_burst": 20,
    "assign_rate_per_second": 0.01,
    "assign_burst": 6,
    "client_assign_rate_per_second": 0.01,
    "client_assign_burst": 2,
}


class Peers:
    """The ASGI app as a server would call it for connections from several addresses: each
    request's socket peer is the `x-test-peer` header's (which the app never sees); counts the
    body bytes the app reads."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.bytes_read = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        peer = headers.pop(b"x-test-peer", b"127.0.0.1").decode()
        scope = {**scope, "client": (peer, 50000), "headers": list(headers.items())}

        async def counted() -> Any:
            message = await receive()
            self.bytes_read += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


@pytest.fixture
def budgets(sqlite_url: str) -> dict[str, Any]:
    """The settings of these tests: low budgets on a fresh database."""
    return {"database_url": sqlite_url, "admin_key": ADMIN_KEY, "sdk_key": SDK_KEY, **BUDGETS}


@contextmanager
def serve(**settings: Any) -> Iterator[TestClient]:
    with TestClient(Peers(create_app(load_settings(**settings)))) as client:
        running_experiment(client, ADMIN)
        yield client


@pytest.fixture
def client(budgets: dict[str, Any]) -> Iterator[TestClient]:
    with serve(**budgets) as client:
        yield client


@pytest.fixture
def proxied(budgets: dict[str, Any]) -> Iterator[TestClient]:
    """Behind a proxy at PROXY that appends the caller's address to X-Forwarded-For."""
    proxy = {"client_ip_header": "X-Forwarded-For", "trusted_proxies": PROXY}
    with serve(**budgets, **proxy) as client:
        yield client


def batch(n: int) -> dict[str, Any]:
    return {"events": [purchase(f"u-{uuid.uuid4().hex}") for _ in range(n)]}


def events_from(client: TestClient, peer: str, n: int = 10, forwarded: str | None = None) -> Any:
    """A batch of `n` events with the sdk key from `peer`, maybe with an X-Forwarded-For."""
    headers = {**SDK, "x-test-peer": peer}
    if forwarded is not None:
        headers["X-Forwarded-For"] = forwarded
    return client.post("/v1/events", json=batch(n), headers=headers)


def test_a_flooding_client_cannot_push_another_clients_events_into_429(
    client: TestClient,
) -> None:
    flood = [events_from(client, FLOODER).status_code for _ in range(8)]  # 80 events > key's 50
    visitor = events_from(client, VISITOR)
    assert flood == [202, 202] + [429] * 6
    assert visitor.status_code == 202, visitor.text
    assert visitor.json()["accepted"] == 10
    refused = events_from(client, FLOODER)
    problem = assert_problem(refused, 429)
    assert problem["detail"].startswith("this client address's events limit is 0.01 events/s")
    assert int(refused.headers["retry-after"]) >= 1
    scrape = client.get("/metrics", headers=ADMIN).text
    assert 'vekst_rate_limited_requests_total{limit="events_per_client"} 7.0' in scrape


def test_the_key_bucket_still_limits_many_clients_together(client: TestClient) -> None:
    answers = [events_from(client, f"192.0.2.{i}", n=20) for i in range(3)]
    assert [a.status_code for a in answers] == [202, 202, 429]
    assert "this key's events limit" in answers[-1].json()["detail"]


def test_a_spoofed_forwarding_header_from_an_untrusted_peer_changes_nothing(
    proxied: TestClient,
) -> None:
    spoofed = [
        events_from(proxied, FLOODER, forwarded=f"192.0.2.{i}").status_code for i in range(5)
    ]
    assert spoofed == [202, 202, 429, 429, 429]  # one bucket: the flooder's own address
    # Behind the trusted proxy, the right-most address the proxy did not vouch for counts; what
    # the flooder wrote left of it is its own claim.
    through_proxy = events_from(proxied, PROXY, forwarded=f"{VISITOR}, {FLOODER}").status_code
    visitor = events_from(proxied, PROXY, forwarded=f"{FLOODER}, {VISITOR}")
    assert through_proxy == 429
    assert visitor.status_code == 202, visitor.text


def test_without_a_trusted_proxy_every_request_through_it_is_one_client(
    client: TestClient,
) -> None:
    # The header is not configured: the proxy's own address is the client.
    answers = [events_from(client, PROXY, forwarded=f"192.0.2.{i}").status_code for i in range(3)]
    assert answers == [202, 202, 429]


def test_ipv6_clients_are_one_client_per_64(client: TestClient) -> None:
    answers = [events_from(client, f"2001:db8:1:2::{i:x}").status_code for i in range(3)]
    other_64 = events_from(client, "2001:db8:1:3::1")
    assert answers == [202, 202, 429]
    assert other_64.status_code == 202


def test_secret_keys_get_the_key_bucket_only(client: TestClient) -> None:
    # A shop backend behind one address, sending with a secret key, is not one visitor.
    events = [
        client.post(
            "/v1/events", json=batch(10), headers={**ADMIN, "x-test-peer": FLOODER}
        ).status_code
        for _ in range(4)
    ]
    assigned = [
        client.post(
            "/v1/assign", json={"unit_id": "u"}, headers={**ADMIN, "x-test-peer": FLOODER}
        ).status_code
        for _ in range(4)
    ]
    assert events == [202] * 4
    assert assigned == [200] * 4


def test_assign_has_a_bucket_per_client(client: TestClient) -> None:
    def assign(peer: str) -> Any:
        return client.post(
            "/v1/assign", json={"unit_id": "u"}, headers={**SDK, "x-test-peer": peer}
        )

    flood = [assign(FLOODER).status_code for _ in range(8)]  # more than the key's 6
    visitor = assign(VISITOR)
    assert flood == [200, 200] + [429] * 6
    assert visitor.status_code == 200, visitor.text
    refused = assert_problem(assign(FLOODER), 429)
    assert refused["detail"].startswith("this client address's assign limit is 0.01 requests/s")


def test_a_beacon_is_charged_to_its_client_before_its_body_is_parsed(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[bytes] = []
    original = parse_document

    def spy(raw: bytes) -> Any:
        parsed.append(raw)
        return original(raw)

    monkeypatch.setattr(events, "parse_document", spy)
    junk = orjson.dumps({"sdk_key": "nope", "events": [{}] * 100})
    text = {"Content-Type": "text/plain", "x-test-peer": FLOODER}
    answers = [client.post("/v1/events/beacon", content=junk, headers=text) for _ in range(22)]
    assert [a.status_code for a in answers] == [401] * 20 + [429] * 2
    assert len(parsed) == 20  # the refused ones were never parsed
    assert "client address" in answers[-1].json()["detail"]
    beacon = {"sdk_key": SDK_KEY, "events": batch(3)["events"]}
    other = client.post(
        "/v1/events/beacon", content=orjson.dumps(beacon), headers={**text, "x-test-peer": VISITOR}
    )
    assert other.status_code == 202, other.text


def test_an_unauthenticated_5_mib_body_is_refused_before_it_is_read(
    budgets: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[bytes] = []
    monkeypatch.setattr(events, "parse_document", parsed.append)
    peers = Peers(create_app(load_settings(**budgets)))
    body = b'{"events": [' + b"{}," * (5 * 1024 * 1024 // 3 - 10) + b"{}]}"
    assert len(body) <= load_settings(**budgets).max_body_bytes  # the key, not the size, refuses
    with TestClient(peers) as client:
        refused = client.post("/v1/events", content=body, headers={"Content-Type": "text/plain"})
        wrong_key = client.post(
            "/v1/events", content=body, headers={"Authorization": "Bearer nope"}
        )
    assert_problem(refused, 401)
    assert_problem(wrong_key, 401)
    assert peers.bytes_read == 0 and parsed == []


@pytest.mark.parametrize(
    ("path", "headers"),
    [("/v1/events/beacon", {"Content-Type": "text/plain"}), ("/v1/assign", SDK)],
)
def test_public_routes_have_small_body_caps(
    client: TestClient, path: str, headers: Headers
) -> None:
    over = b'{"events": [' + b" " * 64 * 1024 + b"]}"
    problem = assert_problem(client.post(path, content=over, headers=headers), 413)
    assert problem["detail"] == f"the request body of {path} must be at most 65536 bytes"
    chunked = client.post(path, content=iter([over[:40_000], over[40_000:]]), headers=headers)
    assert assert_problem(chunked, 413)["detail"] == problem["detail"]
    # /v1/events keeps the general limit.
    events = client.post("/v1/events", content=over, headers={**SDK, "x-test-peer": VISITOR})
    assert events.status_code == 202, events.text


def test_the_beacon_cap_is_a_setting(budgets: dict[str, Any]) -> None:
    document = orjson.dumps({"sdk_key": SDK_KEY, "events": batch(10)["events"]})
    with serve(**budgets, beacon_max_body_bytes=len(document) - 1) as client:
        too_large = client.post("/v1/events/beacon", content=document)
        smaller = {"sdk_key": SDK_KEY, "events": batch(1)["events"]}
        fits = client.post("/v1/events/beacon", content=orjson.dumps(smaller))
    assert f"at most {len(document) - 1} bytes" in assert_problem(too_large, 413)["detail"]
    assert fits.status_code == 202, fits.text


@pytest.mark.redis
def test_client_buckets_are_shared_through_redis(budgets: dict[str, Any], redis_url: str) -> None:
    prefix = f"{{vekst-test-{uuid.uuid4().hex[:10]}}}"
    shared = load_settings(
        **budgets, redis_url=redis_url, event_stream_prefix=prefix, start_worker=False
    )
    # Two processes' apps on one Redis: the flooder's bucket is the same in both.
    with (
        TestClient(Peers(create_app(shared))) as first,
        TestClient(Peers(create_app(shared))) as second,
    ):
        answers = [events_from(c, FLOODER).status_code for c in (first, second, first)]
        visitor = events_from(second, VISITOR)
    assert answers == [202, 202, 429]
    assert visitor.status_code == 202
