"""The OpenFeature provider, exercised through the OpenFeature API as a shop would."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason
from openfeature.track import TrackingEventDetails

from tests.sdk.fake_server import SDK_KEY, FakeServer, config_document
from vekst_sdk import Client, ClientOptions
from vekst_sdk.openfeature import VekstProvider


@pytest.fixture
def server() -> FakeServer:
    document = config_document(targeting={"attribute": "country", "op": "eq", "value": "NO"})
    stopped = {
        **document["experiments"][0],
        "key": "old-test",
        "status": "stopped",
        "winner": "one-page",
        "targeting": None,
    }
    document["experiments"].append(stopped)
    return FakeServer(document)


@pytest.fixture
def client(server: FakeServer) -> Iterator[Client]:
    client = Client.from_config(
        server.config,
        "https://vekst.test",
        SDK_KEY,
        transport=server.transport(),
        options=ClientOptions(flush_interval=60),
    )
    api.set_provider(VekstProvider(client))
    yield client
    api.shutdown()
    client.close()


def norwegian(unit_id: str) -> EvaluationContext:
    return EvaluationContext(targeting_key=unit_id, attributes={"country": "NO"})


def test_string_flag_is_the_variant_with_split_reason(client: Client) -> None:
    details = api.get_client().get_string_details(
        "checkout-onepage", "fallback", norwegian("visitor-1")
    )
    expected = client.assign("checkout-onepage", "visitor-1", {"country": "NO"})
    assert details.value == details.variant == expected.variant
    assert details.reason == Reason.SPLIT
    assert details.error_code is None


def test_object_flag_is_the_payload(client: Client) -> None:
    details = api.get_client().get_object_details("checkout-onepage", {}, norwegian("visitor-1"))
    assert details.value in ({"layout": "multi"}, {"layout": "one"})


def test_reasons_for_override_not_targeted_and_stopped(client: Client) -> None:
    of_client = api.get_client()
    override = of_client.get_string_details("checkout-onepage", "x", norwegian("qa-anna"))
    assert (override.value, override.reason) == ("one-page", Reason.TARGETING_MATCH)
    swede = EvaluationContext(targeting_key="visitor-1", attributes={"country": "SE"})
    default = of_client.get_string_details("checkout-onepage", "x", swede)
    assert (default.value, default.reason) == ("multi-step", Reason.DEFAULT)
    stopped = of_client.get_string_details("old-test", "x", norwegian("visitor-1"))
    assert (stopped.value, stopped.reason) == ("one-page", Reason.DISABLED)


def test_errors_return_the_default(client: Client) -> None:
    of_client = api.get_client()
    missing = of_client.get_string_details("no-such-test", "fallback", norwegian("visitor-1"))
    assert (missing.value, missing.error_code) == ("fallback", ErrorCode.FLAG_NOT_FOUND)
    no_key = of_client.get_string_details("checkout-onepage", "fallback", EvaluationContext())
    assert no_key.error_code == ErrorCode.TARGETING_KEY_MISSING
    boolean = of_client.get_boolean_details("checkout-onepage", False, norwegian("visitor-1"))
    assert (boolean.value, boolean.error_code) == (False, ErrorCode.TYPE_MISMATCH)


def test_exposure_and_track_reach_the_server(client: Client, server: FakeServer) -> None:
    of_client = api.get_client()
    of_client.get_string_value("checkout-onepage", "x", norwegian("visitor-7"))
    of_client.track("purchase", norwegian("visitor-7"), TrackingEventDetails(value=649.0))
    client.close()
    exposure, purchase = server.events()
    assert (exposure["type"], exposure["unit_id"]) == ("exposure", "visitor-7")
    assert (purchase["name"], purchase["value"], purchase["unit_id"]) == (
        "purchase",
        649.0,
        "visitor-7",
    )
