"""Exposures carry the attributes the experiment names as dimensions, and nothing else."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
import pytest

from tests.sdk.fake_server import SDK_KEY, FakeServer, config_document
from vekst_sdk import Client, ClientOptions
from vekst_sdk.spec import ConfigError, validate_experiment

API = "https://vekst.test"
FAST = ClientOptions(flush_interval=0.01, backoff_base=0.001)
EXPOSURE_FIELDS = {"event_id", "type", "unit_id", "timestamp", "experiment", "variant"}
SHOP_ATTRIBUTES = {
    "email": "kari@example.no",
    "market": "NO",
    "cart_value": 649,
    "device": "mobile",
    "logged_in": True,
}


def exposures(
    dimensions: Any, attributes: dict[str, Any] | None, units: int = 1
) -> list[dict[str, Any]]:
    """The exposures a client sends for `units` visitors assigned with `attributes`."""
    changes = {} if dimensions is None else {"dimensions": dimensions}
    server = FakeServer(config_document(**changes))
    client = Client.from_config(
        server.config, API, SDK_KEY, transport=server.transport(), options=replace(FAST)
    )
    for number in range(units):
        assert client.assign("checkout-onepage", f"visitor-{number}", attributes).in_experiment
    client.close()
    return server.events()


def test_only_the_named_dimensions_are_sent_in_their_order() -> None:
    (event,) = exposures(["market", "device", "visitor_type"], SHOP_ATTRIBUTES)
    assert event["attributes"] == {"market": "NO", "device": "mobile"}
    assert list(event["attributes"]) == ["market", "device"]


@pytest.mark.parametrize(
    ("dimensions", "attributes"),
    [
        (None, SHOP_ATTRIBUTES),  # the config has no dimensions (an older server)
        ([], SHOP_ATTRIBUTES),
        (["source"], SHOP_ATTRIBUTES),  # named, but the shop did not pass it
        (["market"], None),
        (["market"], {}),
    ],
)
def test_no_dimension_given_sends_the_exposure_as_before(
    dimensions: list[str] | None, attributes: dict[str, Any] | None
) -> None:
    (event,) = exposures(dimensions, attributes)
    assert set(event) == EXPOSURE_FIELDS


def test_values_the_server_cannot_store_are_left_out_not_the_exposure() -> None:
    attributes = {"market": "N\x00O", "device": "mobile\ud800", "segment": 2**70, "plan": "pro"}
    (event,) = exposures(["market", "device", "segment", "plan"], attributes)
    assert event["attributes"] == {"plan": "pro"}


def test_each_unit_sends_its_own_attributes_once() -> None:
    server = FakeServer(config_document(dimensions=["market"]))
    client = Client.from_config(server.config, API, SDK_KEY, transport=server.transport())
    client.assign("checkout-onepage", "visitor-1", {"market": "NO"})
    client.assign("checkout-onepage", "visitor-1", {"market": "SE"})  # already exposed
    client.assign("checkout-onepage", "visitor-2", {"market": "SE"})
    client.close()
    assert [(e["unit_id"], e["attributes"]) for e in server.events()] == [
        ("visitor-1", {"market": "NO"}),
        ("visitor-2", {"market": "SE"}),
    ]


def test_the_exposure_takes_the_dimensions_of_the_config_that_decided() -> None:
    """A config refreshed between the decision and the exposure does not mix the two."""
    server = FakeServer(config_document(dimensions=["market"]))
    client = Client.from_config(server.config, API, SDK_KEY, transport=server.transport())
    client.assign("checkout-onepage", "visitor-1", {"market": "NO", "device": "mobile"})
    client._apply_config(config_document(dimensions=["device"]))
    client.assign("checkout-onepage", "visitor-2", {"market": "NO", "device": "mobile"})
    client.close()
    assert [e["attributes"] for e in server.events()] == [{"market": "NO"}, {"device": "mobile"}]


@pytest.mark.parametrize(
    ("dimensions", "path"),
    [
        ("device", "experiment.dimensions"),
        (["a", "b", "c", "d", "e", "f"], "experiment.dimensions"),
        (["device", 7], "experiment.dimensions[1]"),
        (["device", ""], "experiment.dimensions[1]"),
    ],
)
def test_a_malformed_dimensions_list_is_refused_naming_it(dimensions: object, path: str) -> None:
    experiment = config_document(dimensions=dimensions)["experiments"][0]
    with pytest.raises(ConfigError) as raised:
        validate_experiment(experiment)
    assert raised.value.path == path


def test_offline_client_with_dimensions_sends_nothing() -> None:
    requests: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(202)

    client = Client.from_config(
        config_document(dimensions=["market"]), transport=httpx.MockTransport(record)
    )
    assert client.assign("checkout-onepage", "visitor-1", {"market": "NO"}).in_experiment
    client.close()
    assert requests == []
