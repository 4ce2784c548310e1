"""Exposures with attributes through the API (issue #23): `POST /v1/events` and
`POST /v1/assign` with `expose: true` store the attributes the experiment names as dimensions,
on SQLite and PostgreSQL, directly and through the Redis stream and its worker."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.app import create_app
from experiments.db import make_engine
from experiments.models.event import Exposure
from experiments.settings import load_settings
from tests.api.helpers import (
    EXPERIMENT,
    create,
    exposure,
    send,
    start,
)
from tests.conftest import ADMIN_KEY, SDK_KEY
from tests.waiting import wait_until

Headers = dict[str, str]
SENT = {"device": "mobile", "market": "NO", "email": "kari@example.no", "cart_value": 649}
KEPT = {"device": "mobile", "market": "NO"}


def stored_attributes(database_url: str) -> dict[str, Any]:
    """Each stored exposure's event id -> its attributes."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            rows = session.exec(select(Exposure.event_id, Exposure.attributes)).all()
    finally:
        engine.dispose()
    return dict(rows)


def running(client: TestClient, admin_headers: Headers) -> None:
    create(client, admin_headers, dimensions=["device", "market", "visitor_type"])
    start(client, admin_headers)


def test_events_store_only_the_dimensions(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers, database_url: str
) -> None:
    running(client, admin_headers)
    answer = send(
        client,
        sdk_headers,
        [exposure("with", attributes=SENT), exposure("without", unit_id="visitor-2")],
    )
    assert (answer["accepted"], answer["rejected"]) == (2, [])
    assert stored_attributes(database_url) == {"with": KEPT, "without": None}


BAD = [
    ('{"device": "mob\\u0000ile"}', "attributes.device"),
    ('{"device": "\\udfff"}', "attributes.device"),
    ('{"device": 18446744073709551615}', "attributes.device"),
    ('{"device": 1e400}', "attributes.device"),
    ('{"device": {"kind": "phone"}}', "attributes.device"),
]


@pytest.mark.parametrize(("attributes", "field"), BAD)
def test_a_bad_attribute_rejects_its_event_alone(
    client: TestClient,
    admin_headers: Headers,
    sdk_headers: Headers,
    database_url: str,
    attributes: str,
    field: str,
) -> None:
    running(client, admin_headers)
    good = '{"type": "exposure", "unit_id": "u1", "experiment": "%s", "variant": "one-page"}'
    bad = (
        '{"type": "exposure", "unit_id": "u2", "experiment": "%s", "variant": "one-page", '
        '"event_id": "bad", "attributes": ' + attributes + "}"
    )
    body = '{"events": [' + good % EXPERIMENT + ", " + bad % EXPERIMENT + "]}"
    headers = sdk_headers | {"Content-Type": "application/json"}
    response = client.post("/v1/events", content=body.encode(), headers=headers)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["accepted"] == 1
    assert [(r["index"], r["errors"][0]["field"]) for r in answer["rejected"]] == [(1, field)]
    assert list(stored_attributes(database_url).values()) == [None]


def test_a_huge_attribute_object_is_rejected_alone(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers, database_url: str
) -> None:
    running(client, admin_headers)
    huge = {f"name-{i}": "x" * 1000 for i in range(5000)}
    answer = send(
        client,
        sdk_headers,
        [exposure("huge", attributes=huge), exposure("fine", unit_id="v2", attributes=KEPT)],
    )
    assert answer["accepted"] == 1
    [rejection] = answer["rejected"]
    assert rejection["errors"] == [
        {"field": "attributes", "rule": "must hold at most 100 attributes"}
    ]
    assert stored_attributes(database_url) == {"fine": KEPT}


def test_assign_with_expose_stores_the_dimensions_of_the_request(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers, database_url: str
) -> None:
    running(client, admin_headers)
    body = {"unit_id": "visitor-9", "attributes": SENT, "expose": True}
    response = client.post("/v1/assign", json=body, headers=sdk_headers)
    assert response.status_code == 200, response.text
    assert response.json()["exposure"] == {"recorded": 1, "not_recorded": []}
    assert list(stored_attributes(database_url).values()) == [KEPT]
    # The first exposure's attributes stay: a unit's level is its value at its first exposure.
    later = body | {"attributes": {"device": "desktop"}}
    client.post("/v1/assign", json=later, headers=sdk_headers).raise_for_status()
    assert list(stored_attributes(database_url).values()) == [KEPT]


def test_assign_refuses_bad_attributes_naming_them(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers, database_url: str
) -> None:
    running(client, admin_headers)
    body = {"unit_id": "v", "attributes": {"device": "mob\u0000ile"}, "expose": True}
    response = client.post("/v1/assign", json=body, headers=sdk_headers)
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == ["attributes.device"]
    assert stored_attributes(database_url) == {}


@pytest.fixture
def streamed_client(database_url: str, redis_url: str) -> Iterator[TestClient]:
    """The API with the Redis stream between intake and database, and its worker running."""
    settings = load_settings(
        database_url=database_url,
        redis_url=redis_url,
        event_stream_prefix=f"{{vekst-test-{uuid.uuid4().hex[:10]}}}",
        admin_key=ADMIN_KEY,
        sdk_key=SDK_KEY,
        start_scheduler=False,
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_the_streamed_path_stores_the_dimensions(
    streamed_client: TestClient, admin_headers: Headers, sdk_headers: Headers, database_url: str
) -> None:
    running(streamed_client, admin_headers)
    events = [
        exposure("with", attributes=SENT),
        exposure("without", unit_id="visitor-2"),
        exposure("bad", unit_id="visitor-3", attributes={"device": ["x"]}),
    ]
    answer = send(streamed_client, sdk_headers, events)
    assert answer["accepted"] == 2 and [r["index"] for r in answer["rejected"]] == [2]
    assign = {"unit_id": "visitor-4", "attributes": {"market": "SE"}, "expose": True}
    streamed_client.post("/v1/assign", json=assign, headers=sdk_headers).raise_for_status()
    wait_until(lambda: len(stored_attributes(database_url)) == 3, 20, "the worker to store")
    stored = stored_attributes(database_url)
    assert (stored["with"], stored["without"]) == (KEPT, None)
    assert sorted(map(str, stored.values())) == sorted(map(str, [KEPT, None, {"market": "SE"}]))
