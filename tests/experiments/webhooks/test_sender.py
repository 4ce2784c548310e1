"""The real sender against real local receivers: one deadline per attempt, a bounded read, and
the checked address pinned for the connection (findings 1, 2 and 3)."""

from __future__ import annotations

import ssl
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import httpx
import pytest

from experiments.webhooks.sender import TIMED_OUT, HttpSender, default_trust, error_words
from experiments.webhooks.targets import REFUSED_PRIVATE, TargetPolicy, TargetRefusedError
from tests.experiments.webhooks.helpers import LOCAL_TARGETS
from tests.experiments.webhooks.receivers import (
    flood,
    no_content,
    running,
    tls_running,
    trickle_body,
    trickle_head,
)

HEADERS = {"Content-Type": "application/json"}


@pytest.mark.parametrize("answer", [trickle_head, trickle_body], ids=["head", "body"])
def test_a_receiver_trickling_one_byte_a_second_is_cut_off_at_the_deadline(answer) -> None:
    send = HttpSender(LOCAL_TARGETS, deadline_seconds=2.0)
    with running(answer) as receiver:
        started = time.monotonic()
        with pytest.raises(TimeoutError) as failure:
            send(receiver.url(), b"{}", HEADERS)
        took = time.monotonic() - started
    assert 1.9 < took < 3.0  # the whole attempt, not one read: each read got its byte in time
    assert error_words(failure.value) == TIMED_OUT


def test_a_huge_answer_is_read_only_a_little() -> None:
    send = HttpSender(LOCAL_TARGETS, deadline_seconds=10.0)
    with running(flood) as receiver:
        tracemalloc.start()
        started = time.monotonic()
        try:
            assert send(receiver.url(), b"{}", HEADERS) == 200
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        took = time.monotonic() - started
        time.sleep(0.5)  # the receiver notices the closed connection
        sent = receiver.bytes_sent
    assert took < 2.0
    assert peak < 4 * 1024 * 1024  # of a 300 MB answer
    assert sent < 32 * 1024 * 1024  # what the socket buffers took before the client hung up


def test_the_connection_goes_to_the_checked_address_under_the_hosts_name() -> None:
    """The name resolves only through the injected resolver (`.invalid` never resolves in DNS),
    once per attempt; the receiver still sees the name in the Host header."""
    asked: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    send = HttpSender(TargetPolicy(allow_private=True, resolve=resolver))
    with running(no_content) as receiver:
        assert send(f"http://hooks.vekst.invalid:{receiver.port}/x", b"{}", HEADERS) == 204
        [request] = receiver.requests
    assert asked == ["hooks.vekst.invalid"]
    assert f"host: hooks.vekst.invalid:{receiver.port}".encode() in request.lower()


def test_a_name_rebound_to_loopback_after_its_check_is_refused() -> None:
    """A rebinding DNS server: public at the webhook's creation, 127.0.0.1 at the attempt."""
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])

    def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    targets = TargetPolicy(resolve=rebinding)
    with running(no_content) as receiver:
        url = f"http://hooks.vekst.invalid:{receiver.port}/x"
        targets.check(url)  # at creation: public
        with pytest.raises(TargetRefusedError) as refused:
            HttpSender(targets)(url, b"{}", HEADERS)
        assert receiver.requests == []
    assert refused.value.reason == REFUSED_PRIVATE


def test_without_the_setting_a_local_receiver_is_refused_at_send_time() -> None:
    with running(no_content) as receiver:
        with pytest.raises(TargetRefusedError):
            HttpSender()(receiver.url(), b"{}", HEADERS)
        assert receiver.requests == []
        assert HttpSender(LOCAL_TARGETS)(receiver.url(), b"{}", HEADERS) == 204


def test_a_resolver_that_never_answers_ends_at_the_deadline_too() -> None:
    answered = threading.Event()

    def silent_dns(host: str, port: int) -> list[str]:
        answered.wait(30)
        return ["127.0.0.1"]

    send = HttpSender(TargetPolicy(allow_private=True, resolve=silent_dns), deadline_seconds=1.0)
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutError):
            send("http://hooks.vekst.invalid/x", b"{}", HEADERS)
    finally:
        # The thread the sender left behind ends now: the test process need not wait for it.
        answered.set()
    assert time.monotonic() - started < 2.0


def test_https_keeps_the_name_for_sni_and_the_certificate_check(tmp_path: Path) -> None:
    """Connected to the checked address, the TLS handshake still names the host (SNI) and the
    certificate must be the name's: a name the certificate lacks fails though the address is
    the same."""

    def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    targets = TargetPolicy(allow_private=True, resolve=resolver)
    with tls_running("hooks.vekst.test", tmp_path) as (receiver, trusted, names):
        send = HttpSender(targets, trusted=trusted)
        assert send(f"https://hooks.vekst.test:{receiver.port}/x", b"{}", HEADERS) == 204
        assert names == ["hooks.vekst.test"]
        with pytest.raises(httpx.ConnectError) as mismatch:
            send(f"https://other.vekst.test:{receiver.port}/x", b"{}", HEADERS)
    assert error_words(mismatch.value) == "connection failed"
    assert len(receiver.requests) == 1


def test_without_trusted_authorities_the_default_bundle_checks_and_is_built_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no `trusted`, certificates are checked against httpx's bundle, which a test
    authority is not in; that context is built once for every attempt (reading the bundle cost
    each attempt about 20 ms of CPU)."""
    built: list[bool] = []
    create = httpx.create_ssl_context

    def counted(**options: Any) -> ssl.SSLContext:
        built.append(True)
        return create(**options)

    monkeypatch.setattr(httpx, "create_ssl_context", counted)
    default_trust.cache_clear()
    targets = TargetPolicy(allow_private=True, resolve=lambda host, port: ["127.0.0.1"])
    with tls_running("hooks.vekst.test", tmp_path) as (receiver, _trusted, _names):
        send = HttpSender(targets)
        for _ in range(2):
            with pytest.raises(httpx.ConnectError):
                send(f"https://hooks.vekst.test:{receiver.port}/x", b"{}", HEADERS)
    default_trust.cache_clear()  # the next test's context is httpx's own again
    assert built == [True]
    assert receiver.requests == []
