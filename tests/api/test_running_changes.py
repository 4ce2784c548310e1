"""What a running experiment may change: its question (primary metric, guardrails, design) is
frozen with a 409 that says why; secondary metrics, name and hypothesis stay editable."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import URL, Headers, assert_problem, create, start

CHECKOUT_METRICS = {
    "primary": "conversion_rate",
    "secondary": ["aov", "revenue_per_visitor", "checkout_start_rate"],
    "guardrails": ["cart_abandonment", "refund_rate"],
    "cap_percentiles": {"aov": 99.9, "revenue_per_visitor": 99.9},  # the template's
}


def metrics(**changes: Any) -> dict[str, Any]:
    return {"metrics": {**CHECKOUT_METRICS, **changes}}


@pytest.mark.parametrize(
    ("change", "field", "why"),
    [
        (metrics(primary="aov"), "metrics.primary", "invalidates the verdict"),
        (metrics(guardrails=["refund_rate"]), "metrics.guardrails", "changes the verdict"),
        (
            metrics(guardrails=["cart_abandonment", "refund_rate", "unsubscribe_rate"]),
            "metrics.guardrails",
            "changes the verdict",
        ),
        ({"design": {"alpha": 0.1}}, "design", "tuned by the design"),
        ({"design": {"planned_units_per_variant": 500}}, "design", "tuned by the design"),
        ({"design": {"mde_relative": 0.2, "power": 0.9}}, "design", "tuned by the design"),
    ],
)
def test_the_question_is_frozen_once_running(
    client: TestClient, admin_headers: Headers, change: dict[str, Any], field: str, why: str
) -> None:
    create(client, admin_headers)
    start(client, admin_headers)
    before = client.get(URL, headers=admin_headers).json()
    problem = assert_problem(client.patch(URL, json=change, headers=admin_headers), 409)
    assert problem["detail"].startswith(f"{field} cannot change once an experiment has started")
    assert why in problem["detail"]
    assert "create a new experiment" in problem["detail"]
    after = client.get(URL, headers=admin_headers).json()
    assert (after["metrics"], after["design"]) == (before["metrics"], before["design"])


def test_the_question_stays_frozen_after_the_stop(
    client: TestClient, admin_headers: Headers
) -> None:
    create(client, admin_headers)
    start(client, admin_headers)
    client.post(f"{URL}/stop", headers=admin_headers)
    response = client.patch(URL, json=metrics(primary="aov"), headers=admin_headers)
    assert "metrics.primary cannot change" in assert_problem(response, 409)["detail"]


def test_secondary_metrics_name_and_hypothesis_may_change(
    client: TestClient, admin_headers: Headers
) -> None:
    create(client, admin_headers)
    start(client, admin_headers)
    change = {
        "name": "One-page checkout, second look",
        "hypothesis": "Fewer steps, more purchases",
        # The capped revenue metrics stay: their caps are frozen like the question.
        **metrics(secondary=["aov", "revenue_per_visitor", "add_to_cart_rate"]),
    }
    response = client.patch(URL, json=change, headers=admin_headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["metrics"]["secondary"] == ["aov", "revenue_per_visitor", "add_to_cart_rate"]
    assert (body["name"], body["hypothesis"]) == (change["name"], change["hypothesis"])


def test_sending_back_the_same_design_and_metrics_is_no_change(
    client: TestClient, admin_headers: Headers
) -> None:
    create(client, admin_headers)
    start(client, admin_headers)
    # The start fixed the plan in the design: what a client reads now is what it sends back.
    running = client.get(URL, headers=admin_headers).json()
    assert running["design"]["planned_units_per_variant"] is not None
    same = {"design": running["design"], "metrics": running["metrics"], "traffic": 1.0}
    assert client.patch(URL, json=same, headers=admin_headers).status_code == 200


def test_a_draft_may_change_its_question(client: TestClient, admin_headers: Headers) -> None:
    create(client, admin_headers)
    change = {**metrics(primary="aov", guardrails=[]), "design": {"alpha": 0.1}}
    body = client.patch(URL, json=change, headers=admin_headers).json()
    assert body["metrics"]["primary"] == "aov" and body["metrics"]["guardrails"] == []
    assert body["design"]["alpha"] == 0.1
