"""The README's SDK snippet stays safe when the experiment key is mistyped or the sdk key is
wrong, and the SDK says what went wrong in words, once."""

from __future__ import annotations

import logging
import socket

import httpx
import pytest

from tests.sdk.fake_server import config_document
from vekst_sdk import AssignmentReason, Client, ClientOptions

API = "https://vekst.test"


def test_a_mistyped_experiment_key_is_safe_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = Client.from_config(config_document())
    with caplog.at_level(logging.WARNING, logger="vekst_sdk"):
        for _ in range(3):
            assignment = client.assign("checkout-onepag", "visitor-8731", {"country": "NO"})
            # The README's line, written for a payload, works without one.
            layout = assignment.payload.get("layout", "multi")
            assert layout == "multi"
    assert assignment.variant is None
    assert assignment.reason is AssignmentReason.UNKNOWN_EXPERIMENT
    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "vekst: no experiment 'checkout-onepag' in the config (a mistyped key, or not created "
        "yet); assign returns no variant and an empty payload"
    ]
    with pytest.raises(TypeError):
        assignment.payload["layout"] = "one"  # read-only
    client.close()


def test_a_known_experiment_still_serves_its_payload() -> None:
    client = Client.from_config(config_document())
    assignment = client.assign("checkout-onepage", "visitor-8731")
    assert assignment.payload.get("layout") in {"multi", "one"}
    client.close()


def test_a_refused_sdk_key_is_explained_once(caplog: pytest.LogCaptureFixture) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        del request
        return httpx.Response(401, json={"detail": "unknown or revoked key"})

    with caplog.at_level(logging.ERROR, logger="vekst_sdk"):
        client = Client(
            API, "vk_sdk_wrong", transport=httpx.MockTransport(refuse), poll_interval=0.01
        )
        assert not client.wait_until_ready(0.2)
        assignment = client.assign("checkout-onepage", "visitor-1")
        client.close()
    assert assignment.variant is None and assignment.payload.get("layout", "multi") == "multi"
    refused = [r.getMessage() for r in caplog.records if "HTTP 401" in r.getMessage()]
    assert refused == [
        "vekst: config request failed (HTTP 401: the server does not know this sdk key, or it "
        "was revoked; check the sdk_key given to Client, or create one with `vekst keys create "
        "--scope sdk`)"
    ]


def test_an_unreachable_server_is_named_by_the_url_tried(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    api = f"http://shop:secret@127.0.0.1:{port}"
    with caplog.at_level(logging.ERROR, logger="vekst_sdk"):
        client = Client(api, "vk_sdk_test", options=ClientOptions(max_retries=0))
        assert client.wait_until_ready(timeout=1) is False
        client.track("purchase", "visitor-1", 649.0)
        client.close()
    messages = [record.getMessage() for record in caplog.records]
    base = f"http://127.0.0.1:{port}"
    assert any(
        m.startswith(f"vekst: could not fetch the config from {base}/v1/sdk/config (ConnectError: ")
        for m in messages
    ), messages
    assert any(
        m.startswith(f"vekst: could not send events (unreachable: {base}/v1/events (ConnectError: ")
        and m.endswith("dropped 1 events after 1 attempts")
        for m in messages
    ), messages
    assert "secret" not in caplog.text
