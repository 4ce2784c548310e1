"""Hostile and broken input gets a 4xx problem naming the field, never a 5xx: on both databases
where a value could reach one, on SQLite only where it is refused before (a refusal gone
missing shows there too, as a 2xx where a 4xx is asserted) or no database is read."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import DataError, OperationalError

from api.app import create_app
from experiments.settings import load_settings
from tests.api.helpers import experiment_body
from tests.databases import sqlite_only

Headers = dict[str, str]
JSON = {"Content-Type": "application/json"}


def raw_post(client: TestClient, url: str, body: str, headers: Headers) -> Any:
    """POST text as the body, so escapes and numbers arrive exactly as written."""
    return client.post(url, content=body.encode(), headers={**headers, **JSON})


def assert_422(response: Any, field: str) -> str:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors: dict[str, str] = {e["field"]: e["rule"] for e in response.json()["errors"]}
    assert field in errors, errors
    return errors[field]


def experiment_text(key: str, **changes: Any) -> str:
    return json.dumps(experiment_body(key, **changes))


@pytest.mark.parametrize(
    ("changes", "field", "rule_part"),
    [
        ({"name": "One\x00page"}, "name", "NUL"),
        ({"hypothesis": "a\x00b"}, "hypothesis", "NUL"),
        ({"overrides": {"vis\x00itor": "one-page"}}, "overrides.vis\x00itor", "NUL"),
        (
            {"design": {"planned_units_per_variant": 10**30}},
            "design.planned_units_per_variant",
            "<=",
        ),
        ({"design": {"mde_relative": 1e300}}, "design.mde_relative", "<="),
        ({"design": {"observed_baseline": 1e300}}, "design.observed_baseline", "<="),
        ({"design": {"planned_from": "guess\x00"}}, "design.planned_from", "assumption"),
        ({"design": {"replanned_at": "10**30"}}, "design.replanned_at", "datetime"),
        (
            {"metrics": {"primary": "aov", "cap_percentiles": {"aov": 1e-300}}},
            "metrics.cap_percentiles.aov",
            ">=",
        ),
        ({"metrics": {"primary": "conv\x00"}}, "metrics.primary", "slug"),
        ({"targeting": {"country": {"$in": [10**30]}}}, "targeting.country.$in[0]", "64 bits"),
    ],
)
def test_definitions_the_database_cannot_hold_are_422(
    client: TestClient, admin_headers: Headers, changes: dict[str, Any], field: str, rule_part: str
) -> None:
    response = raw_post(client, "/v1/experiments", experiment_text("e1", **changes), admin_headers)
    assert rule_part in assert_422(response, field)


@sqlite_only
@pytest.mark.parametrize(
    ("first", "second", "field"),
    [
        ("1", "1e-300", "variants[1].weight"),  # the SDK would give it no units
        ("1e-320", "1", "variants[0].weight"),  # underflows to (almost) nothing
        ("1", "1e13", "variants[1].weight"),  # beyond the SDK's 1e12
        ("1", "1e400", "variants[1].weight"),  # beyond a double
        ("1", "1" + "0" * 50, "variants[1].weight"),
    ],
)
def test_weights_the_sdk_refuses_are_refused(
    client: TestClient, admin_headers: Headers, first: str, second: str, field: str
) -> None:
    body = experiment_body("w1")
    body["variants"][0]["weight"], body["variants"][1]["weight"] = "W0", "W1"
    text = json.dumps(body).replace('"W0"', first).replace('"W1"', second)
    assert_422(raw_post(client, "/v1/experiments", text, admin_headers), field)
    assert client.get("/v1/experiments/w1", headers=admin_headers).status_code == 404


def test_a_lone_surrogate_in_a_payload_is_named_with_its_path(
    client: TestClient, admin_headers: Headers
) -> None:
    text = experiment_text("s1").replace('"layout": "multi"', '"layout": "\\ud800"')
    rule = assert_422(
        raw_post(client, "/v1/experiments", text, admin_headers), "variants[0].payload.layout"
    )
    assert "surrogate" in rule


def test_paging_and_keys_beyond_their_bounds(client: TestClient, admin_headers: Headers) -> None:
    big = client.get("/v1/experiments", params={"offset": 2**64}, headers=admin_headers)
    assert_422(big, "offset")
    assert_422(client.get("/v1/experiments/a%00b", headers=admin_headers), "key")


@pytest.mark.parametrize("as_of", ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59.999999+00:00"])
def test_results_at_the_calendars_edges_are_422(
    client: TestClient, admin_headers: Headers, as_of: str
) -> None:
    client.post("/v1/experiments", json=experiment_body("r1"), headers=admin_headers)
    client.post("/v1/experiments/r1/start", headers=admin_headers)
    response = client.get(
        "/v1/experiments/r1/results", params={"as_of": as_of}, headers=admin_headers
    )
    assert_422(response, "as_of")


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"window_hours": 1e9}, "window_hours"), ({"cap": 1e300}, "cap"), ({"name": "x\x00"}, "name")],
)
def test_metric_bounds(
    client: TestClient, admin_headers: Headers, changes: dict[str, Any], field: str
) -> None:
    body = {"key": "m1", "name": "M", "kind": "mean", "numerator_event": "purchase", **changes}
    assert_422(client.post("/v1/metrics", json=body, headers=admin_headers), field)


@sqlite_only
@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        (
            "/v1/stats/analyze",
            '{"kind": "proportion", "variants": [{"n": 1' + "0" * 400 + ', "conversions": 1},'
            ' {"n": 10, "conversions": 1}]}',
            "variants[0].n",
        ),
        (
            "/v1/stats/analyze",
            '{"kind": "mean", "variants": [{"n": 10, "sum": 1e200, "sum_squares": 1},'
            ' {"n": 10, "sum": 1, "sum_squares": 1}]}',
            "variants[0].sum",
        ),
        (
            "/v1/stats/analyze",
            '{"kind": "proportion", "variants": [{"n": 10, "conversions": 1},'
            ' {"n": 10, "conversions": 1}], "prior": {"mean": 0, "sd": 1e-320}}',
            "prior.sd",
        ),
        (
            "/v1/stats/analyze",
            '{"kind": "proportion", "variants": [{"key": "a\\u0000", "n": 10, "conversions": 1},'
            ' {"n": 10, "conversions": 1}]}',
            "variants[0].key",
        ),
        (
            "/v1/stats/sample-size",
            '{"baseline_rate": 0.02, "mde_relative": 0.1, "daily_units": 1e-320}',
            "daily_units",
        ),
        (
            "/v1/stats/sample-size",
            '{"baseline_rate": 0.02, "mde_relative": 0.1, "variants": 1e400}',
            "variants",
        ),
    ],
)
def test_statistics_inputs_beyond_a_double_are_422(
    client: TestClient, sdk_headers: Headers, url: str, body: str, field: str
) -> None:
    assert_422(raw_post(client, url, body, sdk_headers), field)


def test_one_undecodable_value_rejects_only_its_event(
    client: TestClient, sdk_headers: Headers
) -> None:
    events = [
        '{"type": "conversion", "unit_id": "u1", "name": "purchase", "event_id": "ok-1"}',
        '{"type": "conversion", "unit_id": "\\ud800", "name": "purchase"}',
        '{"type": "conversion", "unit_id": "u3", "name": "purchase", "value": 1e400}',
        '{"type": "conversion", "unit_id": "u4", "name": "purchase", "value": 1' + "0" * 30 + "}",
        '{"type": "conversion", "unit_id": "nul\\u0000", "name": "purchase"}',
        '{"type": "conversion", "unit_id": "u6", "name": "x", "properties": {"\\udc00": 1}}',
        '{"type": "conversion", "unit_id": "u7", "name": "x", "timestamp": 1' + "0" * 400 + "}",
    ]
    body = '{"events": [' + ", ".join(events) + "]}"
    response = raw_post(client, "/v1/events", body, sdk_headers)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["accepted"] == 1
    fields = {r["index"]: [e["field"] for e in r["errors"]] for r in answer["rejected"]}
    assert fields == {
        1: ["unit_id"],
        2: ["value"],
        3: ["value"],
        4: ["unit_id"],
        5: ["properties.\\udc00"],
        6: ["timestamp"],
    }


@sqlite_only
@pytest.mark.parametrize("body", ["{", '{"events": [NaN]}', "\xff\xfe", "[" * 100_000])
def test_only_a_body_that_is_not_json_is_400(
    client: TestClient, sdk_headers: Headers, body: str
) -> None:
    response = client.post(
        "/v1/events", content=body.encode("latin-1"), headers={**sdk_headers, **JSON}
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"


@sqlite_only
@pytest.mark.parametrize(
    "url", ["/v1/experiments", "/v1/metrics", "/v1/stats/analyze", "/v1/events", "/v1/assign"]
)
def test_the_key_is_checked_before_the_body_is_read(
    client: TestClient, sdk_headers: Headers, url: str
) -> None:
    assert client.post(url, content=b"{not json", headers=JSON).status_code == 401
    wrong = client.post(url, content=b"{not json", headers={**JSON, "Authorization": "Bearer x"})
    assert wrong.status_code == 401
    if url in ("/v1/experiments", "/v1/metrics"):
        forbidden = client.post(url, content=b"{not json", headers={**JSON, **sdk_headers})
        assert forbidden.status_code == 403


def test_an_exposure_a_moment_after_the_start_is_stored(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers
) -> None:
    client.post("/v1/experiments", json=experiment_body("fresh"), headers=admin_headers)
    exposure = {"type": "exposure", "unit_id": "v1", "experiment": "fresh", "variant": "one-page"}
    # The draft is refused; the catalogue now holds it as a draft for up to a second.
    early = client.post("/v1/events", json={"events": [exposure]}, headers=sdk_headers).json()
    assert early["accepted"] == 0 and early["rejected"][0]["errors"][0]["field"] == "experiment"
    assert client.post("/v1/experiments/fresh/start", headers=admin_headers).status_code == 200
    late = client.post("/v1/events", json={"events": [exposure]}, headers=sdk_headers).json()
    assert late == {"accepted": 1, "duplicates": 0, "rejected": []}
    assigned = client.post(
        "/v1/assign",
        json={"unit_id": "v2", "experiments": ["fresh"], "expose": True},
        headers=sdk_headers,
    ).json()
    assert assigned["exposure"] == {"recorded": 1, "not_recorded": []}


@pytest.mark.parametrize(
    "error",
    [
        psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"),
        DataError(
            "INSERT", {}, psycopg.DataError("value too long for type character varying(256)")
        ),
    ],
)
def test_a_value_the_database_refuses_is_422_not_500(sqlite_url: str, error: Exception) -> None:
    app = create_app(load_settings(database_url=sqlite_url))

    def refuse() -> None:
        raise error

    app.add_api_route("/refused", refuse)
    with TestClient(app) as client:
        response = client.get("/refused")
    assert response.status_code == 422
    assert response.json()["detail"].startswith("a value cannot be stored: ")


def test_assign_says_when_its_exposure_could_not_be_stored(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(database_url=sqlite_url, admin_key="a" * 20, sdk_key="s" * 20)
    app = create_app(settings)

    async def outage(_body: bytes, *, source: str) -> None:
        raise OperationalError("INSERT", {}, Exception("connection refused"))

    with TestClient(app) as client:
        admin = {"Authorization": f"Bearer {'a' * 20}"}
        client.post("/v1/experiments", json=experiment_body("down"), headers=admin)
        client.post("/v1/experiments/down/start", headers=admin)
        monkeypatch.setattr(app.state.events.intake, "ingest", outage)
        answer = client.post(
            "/v1/assign",
            json={"unit_id": "v1", "experiments": ["down"], "expose": True},
            headers={"Authorization": f"Bearer {'s' * 20}"},
        )
    assert answer.status_code == 200
    report = answer.json()["exposure"]
    assert report["recorded"] == 0
    assert report["not_recorded"][0]["experiment"] == "down"
    assert report["not_recorded"][0]["errors"][0]["rule"].startswith("could not be stored now")
