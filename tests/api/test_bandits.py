"""Bandit definitions over the API: the defaults, every rule's 422 or 409 naming its field,
hostile settings, and a first look of a bandit without data."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.accounts import log_in
from tests.api.helpers import assert_problem, equal_split_body
from tests.databases import sqlite_only

BANNERS = {"banner-a": "Banner A", "banner-b": "Banner B", "banner-c": "Banner C"}


def bandit_body(key: str = "banner", **changes: Any) -> dict[str, Any]:
    body = equal_split_body(key, "Black Week banner", "cta", BANNERS)
    return {**body, "type": "bandit", **changes}


def test_a_bandit_takes_the_defaults_and_starts_at_equal_weights(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    body = bandit_body()
    body["variants"][0]["weight"] = 5  # a draft's weights are the bandit's to set
    created = client.post("/v1/experiments", json=body, headers=admin_headers)
    assert created.status_code == 201, created.text
    definition = created.json()
    assert definition["type"] == "bandit"
    assert definition["bandit"] == {
        "exploration_hours": 24.0,
        "min_units_per_arm": 100,
        "update_hours": 24.0,
        "floor": 0.01,
        "winner_probability": 0.95,
    }
    assert {variant["weight"] for variant in definition["variants"]} == {0.333333}
    # A bandit keeps each unit's first arm unless told otherwise; an A/B test does not.
    assert definition["sticky"] is True and definition["sticky_version"] == 1
    loose = client.post(
        "/v1/experiments", json=bandit_body("loose", sticky=False), headers=admin_headers
    )
    assert loose.status_code == 201 and loose.json()["sticky"] is False
    plain = client.post(
        "/v1/experiments",
        json=equal_split_body("plain", "Plain", "cta", BANNERS),
        headers=admin_headers,
    )
    assert plain.json()["type"] == "ab" and plain.json()["bandit"] is None
    assert plain.json()["sticky"] is False


def test_a_two_arm_bandit_calls_its_leader_at_a_stricter_default(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    """One arm against one other at 0.95 called a winner in 40 % of simulated A/A campaigns:
    a two-arm bandit that names no threshold gets 0.998; one that names 0.95 keeps it."""
    two = [
        {"key": "banner-a", "name": "A", "weight": 1},
        {"key": "banner-b", "name": "B", "weight": 1},
    ]
    created = client.post(
        "/v1/experiments", json=bandit_body("two", variants=two), headers=admin_headers
    )
    assert created.status_code == 201, created.text
    assert created.json()["bandit"]["winner_probability"] == 0.998
    named = bandit_body("named", variants=two, bandit={"winner_probability": 0.95})
    kept = client.post("/v1/experiments", json=named, headers=admin_headers)
    assert kept.status_code == 201 and kept.json()["bandit"]["winner_probability"] == 0.95


@sqlite_only  # refused before anything is stored
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"metrics": {"primary": "aov"}}, "metrics.primary"),  # a ratio metric
        ({"metrics": {"primary": "cart_abandonment"}}, "metrics.primary"),
        ({"bandit": {"floor": 0.34}}, "bandit.floor"),  # 3 arms x 0.34 > 1
        ({"bandit": {"update_hours": 0.5}}, "bandit.update_hours"),  # at most hourly
        ({"bandit": {"winner_probability": 1}}, "bandit.winner_probability"),
        ({"bandit": {"winner_probability": 0.5}}, "bandit.winner_probability"),
        ({"bandit": {"min_units_per_arm": 0}}, "bandit.min_units_per_arm"),
        ({"bandit": {"min_units_per_arm": 10**30}}, "bandit.min_units_per_arm"),
        ({"bandit": {"exploration_hours": 1e308}}, "bandit.exploration_hours"),
        ({"bandit": {"exploration_hours": -1}}, "bandit.exploration_hours"),
        ({"bandit": {"floor": "NaN"}}, "bandit.floor"),
        ({"bandit": {"floor": -0.01}}, "bandit.floor"),
        ({"bandit": {"steer\u0000": 1}}, "bandit.steer\u0000"),
        ({"bandit": []}, "bandit"),
        ({"type": "multi_armed"}, "type"),
        ({"type": "ab", "bandit": {}}, "bandit"),  # settings without a bandit
    ],
)
def test_bad_bandit_definitions_get_422_naming_the_field(
    client: TestClient, admin_headers: dict[str, str], changes: dict[str, Any], field: str
) -> None:
    response = client.post("/v1/experiments", json=bandit_body(**changes), headers=admin_headers)
    body = assert_problem(response, 422)
    fields = [error["field"] for error in body["errors"]]
    assert any(name.replace("\\u0000", "\u0000").startswith(field) for name in fields), body


def test_more_than_ten_arms_get_422(client: TestClient, admin_headers: dict[str, str]) -> None:
    arms = {f"banner-{index}": f"Banner {index}" for index in range(11)}
    body = {**equal_split_body("many", "Many", "cta", arms), "type": "bandit"}
    assert_problem(
        client.post("/v1/experiments", json=body, headers=admin_headers), 422, "variants"
    )


def test_a_steering_bandits_weights_are_its_own(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    created = client.post("/v1/experiments", json=bandit_body(), headers=admin_headers)
    variants = created.json()["variants"]
    # A draft may become an A/B test, and back; a patch keeps the rules.
    ratio = client.patch(
        "/v1/experiments/banner", json={"metrics": {"primary": "aov"}}, headers=admin_headers
    )
    assert_problem(ratio, 422, "metrics.primary")
    floor = client.patch(
        "/v1/experiments/banner", json={"bandit": {"floor": 0.5}}, headers=admin_headers
    )
    assert_problem(floor, 422, "bandit.floor")
    assert client.post("/v1/experiments/banner/start", headers=admin_headers).status_code == 200
    edited = [dict(variant) for variant in variants]
    edited[1]["weight"] = 0.9
    response = client.patch(
        "/v1/experiments/banner", json={"variants": edited}, headers=admin_headers
    )
    body = assert_problem(response, 409)
    assert "variants[1].weight" in body["detail"] and "bandit" in body["detail"]
    changed = client.patch(
        "/v1/experiments/banner", json={"bandit": {"floor": 0.02}}, headers=admin_headers
    )
    assert "bandit" in assert_problem(changed, 409)["detail"]
    # Its first look, before any exposure: exploring at equal weights, nothing called.
    look = client.post("/v1/experiments/banner/snapshots", headers=admin_headers)
    assert look.status_code == 201, look.text
    page = look.json()
    assert page["bandit"]["exploring"] is True and page["bandit"]["called"] is False
    assert page["bandit"]["probability_best"] == dict.fromkeys(BANNERS)
    assert page["bandit"]["history"][0]["seed"] is None
    assert page["decision"]["verdict"] == "keep_running"
    assert any("biased by changing weights" in warning for warning in page["warnings"])
    # The results page shows the arms, their probabilities and the weights over time.
    log_in(client)
    html = client.get("/experiments/banner").text
    assert 'id="bandit"' in html and "Bandit: weights over time" in html
    assert html.count('data-arm="banner-') == 3 and "33.3 %" in html
