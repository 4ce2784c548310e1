"""Looks over HTTP and the CLI: POST snapshots, the page served, `?fresh=`, stop, the CLI."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import build_cli
from experiments.settings import Settings
from tests.api.helpers import experiment_body, load_past_week, start_checkout


def with_past_week(
    client: TestClient, headers: dict[str, str], settings: Settings
) -> tuple[str, int]:
    """A running experiment with six days of events; the number of looks its backfill takes."""
    key = start_checkout(client, headers)
    raw = load_past_week(settings.database_url, key, 500, seed=6)
    now = datetime.now(UTC)
    first = min(row["timestamp"] for row in raw.exposures)
    # One look per UTC midnight after the first exposure, then one at now.
    return key, (now.date() - first.date()).days + 1


def test_looks_over_http(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    key, days = with_past_week(client, admin_headers, settings)
    page = client.get(f"/v1/experiments/{key}/results", headers=admin_headers).json()
    # The first look backfilled one look per day boundary since the first exposure.
    assert page["look"] == days
    again = client.get(f"/v1/experiments/{key}/results", headers=admin_headers).json()
    assert (again["look"], again["computed_at"]) == (days, page["computed_at"])
    fresh = client.get(
        f"/v1/experiments/{key}/results", params={"fresh": "true"}, headers=admin_headers
    ).json()
    assert fresh["look"] == days + 1
    taken = client.post(f"/v1/experiments/{key}/snapshots", headers=admin_headers)
    assert taken.status_code == 201
    assert taken.json()["look"] == days + 2
    assert client.post("/v1/experiments/nope/snapshots", headers=admin_headers).status_code == 404
    series = client.get(
        f"/v1/experiments/{key}/results/timeseries",
        params={"metric": "conversion_rate"},
        headers=admin_headers,
    ).json()
    assert len(series["points"]) == days  # one per day, the last look of each
    assert series["points"][-1]["look"] == days + 2
    # No reading before the minimums are met (near midnight the first day's point covers
    # minutes, with no comparison at all); from then on the running p-value never rises.
    p_values = [
        p["comparisons"][0]["sequential"]["p_value"] if p["comparisons"] else None
        for p in series["points"]
    ]
    readings = [p for p in p_values if p is not None]
    assert readings and p_values[-len(readings) :] == readings
    assert readings == sorted(readings, reverse=True)

    stopped = client.post(f"/v1/experiments/{key}/stop", headers=admin_headers)
    assert stopped.status_code == 200
    final = client.get(f"/v1/experiments/{key}/results", headers=admin_headers).json()
    assert final["look"] == days + 3
    assert final["as_of"] == stopped.json()["stopped_at"].replace("Z", "+00:00")
    assert final["status"] == "stopped"


def test_taking_a_look_needs_the_admin_key(
    client: TestClient, admin_headers: dict[str, str], sdk_headers: dict[str, str]
) -> None:
    key = start_checkout(client, admin_headers)
    assert client.post(f"/v1/experiments/{key}/snapshots", headers=sdk_headers).status_code == 403
    taken = client.post(f"/v1/experiments/{key}/snapshots", headers=admin_headers)
    assert taken.status_code == 201
    assert taken.json()["look"] == 1  # the refused request took none


def test_draft_has_no_looks(client: TestClient, admin_headers: dict[str, str]) -> None:
    client.post("/v1/experiments", json=experiment_body(key="draft-look"), headers=admin_headers)
    response = client.post("/v1/experiments/draft-look/snapshots", headers=admin_headers)
    assert response.status_code == 409
    assert "start" in response.text


def test_snapshot_command(
    client: TestClient, admin_headers: dict[str, str], cli_settings: Settings
) -> None:
    key, days = with_past_week(client, admin_headers, cli_settings)
    runner = CliRunner()
    taken = runner.invoke(build_cli(), ["snapshot", key])
    assert taken.exit_code == 0, taken.output
    assert taken.output.startswith(f"look {days} of {key}: ")
    again = runner.invoke(build_cli(), ["snapshot", key])
    assert again.output.startswith(f"look {days + 1} of {key}: ")
    printed = runner.invoke(build_cli(), ["results", key])
    assert f"look {days + 1}, as of" in printed.output
    missing = runner.invoke(build_cli(), ["snapshot", "nope"])
    assert missing.exit_code == 1
    assert "no experiment with key" in missing.output


def test_the_server_runs_and_stops_its_scheduler(settings: Settings) -> None:
    scheduled = settings.model_copy(update={"start_scheduler": True})
    app = create_app(scheduled)
    with TestClient(app) as running:
        assert running.get("/healthz").status_code == 200
        task = app.state.scheduler
        assert task is not None
        assert not task.done()
    # Stopped, not cancelled: it returned once asked, before the engine was closed.
    assert task.done() and not task.cancelled()
