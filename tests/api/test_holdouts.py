"""The holdouts API: definition, lifecycle, history, the SDK config's `holdouts`, holdout
exposures, and every kind of bad input answered with a 4xx naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import build_cli
from experiments.assignment import EvaluatorCache
from experiments.migrate import upgrade
from experiments.settings import Settings, load_settings
from tests.api.helpers import (
    Headers,
    assert_problem,
    experiment_body,
    exposure,
    running_experiment,
    send,
)
from tests.conftest import ADMIN_KEY
from vekst_sdk.spec import holdout_hash

URL = "/v1/holdouts"


def holdout_body(key: str = "q2-holdout", **changes: Any) -> dict[str, Any]:
    ends = datetime.now(UTC) + timedelta(days=90)
    body = {
        "key": key,
        "name": "Q2 holdout",
        "share": 0.05,
        "experiments": "all_new",
        "metrics": ["revenue_per_visitor", "conversion_rate"],
        "ends_at": ends.isoformat(),
    }
    return {**body, **changes}


def create_holdout(client: TestClient, headers: Headers, **changes: Any) -> dict[str, Any]:
    response = client.post(URL, json=holdout_body(**changes), headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_a_holdout_is_created_served_to_sdks_and_stopped(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers
) -> None:
    bare = client.get("/v1/sdk/config", headers=sdk_headers).json()
    assert "holdouts" not in bare
    created = create_holdout(client, admin_headers)
    assert created["status"] == "running" and created["experiments"] == "all_new"
    assert created["unit_type"] == "visitor" and "salt" not in created
    assert created["power"]["metric"] == "revenue_per_visitor"
    assert "No traffic in the last 14 days" in created["power"]["text"]
    # "all_new": an experiment started after the holdout's creation is covered.
    running_experiment(client, admin_headers, key="checkout-onepage")
    shown = client.get(f"{URL}/q2-holdout", headers=admin_headers).json()
    assert shown["covered"] == ["checkout-onepage"]
    assert client.get(URL, headers=admin_headers).json()["total"] == 1

    served = client.get("/v1/sdk/config", headers=sdk_headers).json()["holdouts"]
    assert len(served) == 1
    entry = served[0]
    assert set(entry) == {"key", "salt", "share", "unit_type", "experiments"}
    assert entry["experiments"] == ["checkout-onepage"] and entry["share"] == 0.05
    assert len(entry["salt"]) == 16

    stopped = client.post(f"{URL}/q2-holdout/stop", headers=admin_headers)
    assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
    assert "holdouts" not in client.get("/v1/sdk/config", headers=sdk_headers).json()
    assert_problem(client.post(f"{URL}/q2-holdout/stop", headers=admin_headers), 409)
    history = client.get(f"{URL}/q2-holdout/history", headers=admin_headers).json()
    assert [entry["action"] for entry in history] == ["created", "stopped"]
    assert history[1]["changes"]["status"] == {"before": "running", "after": "stopped"}
    assert_problem(client.get(f"{URL}/nope", headers=admin_headers), 404)


def test_holdout_exposures_are_accepted_for_its_two_groups_only(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers
) -> None:
    create_holdout(client, admin_headers)
    events = [
        exposure(experiment="q2-holdout", variant="holdout", unit_id="a"),
        exposure(experiment="q2-holdout", variant="measurement", unit_id="b"),
        exposure(experiment="q2-holdout", variant="one-page", unit_id="c"),
    ]
    answer = send(client, sdk_headers, events)
    assert answer["accepted"] == 2
    assert answer["rejected"][0]["errors"][0]["field"] == "variant"


def test_holdout_and_experiment_keys_share_one_namespace(
    client: TestClient, admin_headers: Headers
) -> None:
    running_experiment(client, admin_headers, key="checkout-onepage")
    taken = client.post(URL, json=holdout_body("checkout-onepage"), headers=admin_headers)
    assert_problem(taken, 409, "key")
    create_holdout(client, admin_headers, experiments=["checkout-onepage"])
    again = client.post(
        URL, json=holdout_body(experiments=["checkout-onepage"]), headers=admin_headers
    )
    assert_problem(again, 409, "key")
    body = {**experiment_body(), "key": "q2-holdout"}
    assert_problem(client.post("/v1/experiments", json=body, headers=admin_headers), 409, "key")


def held_unit(client: TestClient, sdk_headers: Headers) -> str:
    """A unit in the holdout group of the one holdout the SDK config serves."""
    holdout = client.get("/v1/sdk/config", headers=sdk_headers).json()["holdouts"][0]
    threshold = int(holdout["share"] * 2**32)
    return next(
        unit
        for unit in (f"visitor-{n}" for n in range(100_000))
        if holdout_hash(holdout["salt"], unit) < threshold
    )


def test_a_stopped_or_ended_holdout_leaves_assign_at_once(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers
) -> None:
    """No request after a stop or after `ends_at` is held out, though the cached config would
    otherwise be kept for a year: a stop reloads it, `ends_at` expires it (a clock of our own)."""
    now = datetime.now(UTC)
    clock = {"now": now}
    client.app.state.evaluator_cache = EvaluatorCache(  # type: ignore[attr-defined]
        client.app.state.engine,  # type: ignore[attr-defined]
        max_age_seconds=365 * 86400.0,
        clock=lambda: clock["now"].timestamp(),
    )

    def held(unit: str) -> bool:
        body = {"unit_id": unit, "experiments": ["checkout-onepage"]}
        answer = client.post("/v1/assign", json=body, headers=sdk_headers).json()
        return not answer["assignments"]["checkout-onepage"]["in_experiment"]

    create_holdout(client, admin_headers, key="first")
    running_experiment(client, admin_headers, key="checkout-onepage")
    unit = held_unit(client, sdk_headers)
    assert held(unit)
    assert client.post(f"{URL}/first/stop", headers=admin_headers).status_code == 200
    assert not held(unit)
    ends_at = now + timedelta(days=30)
    create_holdout(
        client,
        admin_headers,
        key="second",
        experiments=["checkout-onepage"],
        ends_at=ends_at.isoformat(),
    )
    unit = held_unit(client, sdk_headers)
    clock["now"] = ends_at - timedelta(seconds=1)
    assert held(unit)
    clock["now"] = ends_at
    assert not held(unit)


OVERLAPS = [
    ("all_new", "all_new"),
    (["running-one"], ["running-one"]),
    ("all_new", ["draft-one"]),
    (["draft-one"], "all_new"),
]


def test_two_running_holdouts_never_cover_one_experiment(
    client: TestClient, admin_headers: Headers
) -> None:
    running_experiment(client, admin_headers, key="running-one")
    draft = {**experiment_body(), "key": "draft-one"}
    assert client.post("/v1/experiments", json=draft, headers=admin_headers).status_code == 201
    for case, (first, second) in enumerate(OVERLAPS):
        create_holdout(client, admin_headers, key=f"first-{case}", experiments=first)
        body = holdout_body(f"second-{case}", experiments=second)
        assert_problem(client.post(URL, json=body, headers=admin_headers), 409, "experiments")
        # Once the first one stops, the experiments are free again.
        assert client.post(f"{URL}/first-{case}/stop", headers=admin_headers).status_code == 200
        create_holdout(client, admin_headers, key=f"second-{case}", experiments=second)
        assert client.post(f"{URL}/second-{case}/stop", headers=admin_headers).status_code == 200


def test_a_subscriber_holdout_does_not_clash_with_a_visitor_one(
    client: TestClient, admin_headers: Headers
) -> None:
    create_holdout(client, admin_headers, key="visitors")
    create_holdout(client, admin_headers, key="subscribers", unit_type="subscriber")


PAST = (datetime.now(UTC) - timedelta(days=1)).isoformat()
BAD_INPUT = [
    ({"share": 0.2}, "share"),
    ({"share": 0.005}, "share"),
    ({"share": 0}, "share"),
    ({"share": -0.05}, "share"),
    ({"share": 1e308}, "share"),
    ({"share": "NaN"}, "share"),
    ({"share": True}, "share"),
    ({"experiments": ["no-such-experiment"]}, "experiments[0]"),
    ({"experiments": []}, "experiments"),
    ({"experiments": "everything"}, "experiments"),
    ({"experiments": [f"e{i}" for i in range(201)]}, "experiments"),
    ({"experiments": ["Bad Key"]}, "experiments"),
    ({"metrics": []}, "metrics"),
    ({"metrics": ["no_such_metric"]}, "metrics[0]"),
    ({"metrics": ["aov", "aov"]}, "metrics"),
    ({"ends_at": PAST}, "ends_at"),
    ({"ends_at": "2026-09-01T00:00:00"}, "ends_at"),
    ({"ends_at": "9999-12-31T00:00:00Z"}, "ends_at"),
    ({"ends_at": "soon"}, "ends_at"),
    ({"name": "Q2\u0000"}, "name"),
    ({"name": "\ud800"}, "name"),
    ({"name": ""}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"key": "new"}, "key"),
    ({"key": "Q2 holdout"}, "key"),
    ({"unit_type": "Visitor!"}, "unit_type"),
    ({"salt": "mine"}, "salt"),
]


@pytest.fixture(scope="module")
def one_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app on one SQLite file for the refusals (nothing is stored by them)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('holdouts') / 'vekst.db'}"
    upgrade(url)
    settings = load_settings(database_url=url, admin_key=ADMIN_KEY, start_scheduler=False)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.mark.parametrize(("changes", "field"), BAD_INPUT)
def test_bad_input_is_a_422_naming_the_field(
    one_client: TestClient, changes: dict[str, Any], field: str
) -> None:
    client, admin_headers = one_client, {"Authorization": f"Bearer {ADMIN_KEY}"}
    body = holdout_body(**changes)
    if changes.get("name") == "\ud800":
        raw = str.encode(
            '{"key": "q", "name": "\\ud800", "share": 0.05, "experiments": "all_new", '
            f'"ends_at": "{datetime.now(UTC) + timedelta(days=9):%Y-%m-%dT%H:%M:%SZ}"}}'
        )
        headers = {**admin_headers, "Content-Type": "application/json"}
        response = client.post(URL, content=raw, headers=headers)
    else:
        response = client.post(URL, json=body, headers=admin_headers)
    problem = assert_problem(response, 422)
    assert any(error["field"].startswith(field) for error in problem["errors"]), problem


def test_a_listed_experiment_of_another_unit_type_is_refused(
    client: TestClient, admin_headers: Headers
) -> None:
    running_experiment(client, admin_headers, key="checkout-onepage")
    body = holdout_body(experiments=["checkout-onepage"], unit_type="subscriber")
    assert_problem(client.post(URL, json=body, headers=admin_headers), 422, "experiments[0]")


def test_the_command_line_covers_the_same_ground(cli_settings: Settings) -> None:
    runner, cli = CliRunner(), build_cli()
    ends = f"{datetime.now(UTC) + timedelta(days=60):%Y-%m-%dT%H:%M:%S}"
    create = ["holdouts", "create", "q3", "--name", "Q3", "--ends-at", ends, "--share", "0.04"]
    created = runner.invoke(cli, create)
    assert created.exit_code == 0, created.output
    assert "q3: running, 4 % held out" in created.output and "No traffic" in created.output
    assert "q3" in runner.invoke(cli, ["holdouts", "list"]).output
    assert '"share": 0.04' in runner.invoke(cli, ["holdouts", "show", "q3"]).output
    shown = runner.invoke(cli, ["holdouts", "results", "q3"])
    assert shown.exit_code == 0, shown.output
    assert "The 0 experiments shipped since" in shown.output
    assert "revenue per visitor" in shown.output.lower()
    refused = runner.invoke(cli, [*create[:2], "q4", *create[3:-1], "0.5"])
    assert refused.exit_code != 0 and "share" in refused.output
    assert runner.invoke(cli, ["holdouts", "stop", "q3"]).exit_code == 0
    again = runner.invoke(cli, ["holdouts", "stop", "q3"])
    assert again.exit_code == 1 and "only a running holdout can stop" in again.output
