"""Mistakes a newcomer makes at the terminal get an answer in words: a database that is not
there, a port that is taken; and the overview commands `vekst experiments` and `vekst events`."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from api.cli import build_cli
from experiments.settings import Settings
from tests.api.helpers import (
    EXPERIMENT,
    experiment_body,
    purchase,
    running_experiment,
    send,
    start_checkout,
)

README = Path(__file__).resolve().parents[2] / "README.md"
API_GUIDE = README.with_name("docs") / "api.md"


def test_results_without_a_database_names_the_url_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # "outside the repository": no ./data here
    result = CliRunner().invoke(build_cli(), ["results", "checkout-onepage"])
    assert result.exit_code == 1
    assert "No Vekst database at sqlite:///./data/vekst.db" in result.output
    assert "VEKST_DATABASE_URL" in result.output
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []  # no stray ./data/vekst.db


def test_an_unreachable_server_is_named_without_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+psycopg://shop:secret@127.0.0.1:{port}/vekst?connect_timeout=2"
    monkeypatch.setenv("VEKST_DATABASE_URL", url)
    result = CliRunner().invoke(build_cli(), ["experiments"])
    assert result.exit_code == 1
    assert f"Could not reach the database at postgresql+psycopg://shop:***@127.0.0.1:{port}" in (
        result.output
    )
    assert "secret" not in result.output


def test_an_empty_database_asks_for_the_migration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    monkeypatch.setenv("VEKST_DATABASE_URL", f"sqlite:///{empty}")
    result = CliRunner().invoke(build_cli(), ["results", "x"])
    assert result.exit_code == 1 and "vekst db upgrade" in result.output


@pytest.mark.usefixtures("cli_settings")
def test_experiments_lists_each_verdict(
    client: TestClient, admin_headers: dict[str, str], sdk_headers: dict[str, str]
) -> None:
    running_experiment(client, admin_headers)
    draft = experiment_body("cta-colour", template="cta")
    assert client.post("/v1/experiments", json=draft, headers=admin_headers).status_code == 201
    send(client, sdk_headers, [purchase(name="newsletter_opened", value=None)])
    runner = CliRunner()
    before = runner.invoke(build_cli(), ["experiments"])
    lines = {line.split()[1]: line for line in before.output.splitlines() if "│" in line}
    assert "no look yet" in lines["checkout-onepage"]  # a list never computes a look
    assert client.post(f"/v1/experiments/{EXPERIMENT}/snapshots", headers=admin_headers).is_success
    listed = runner.invoke(build_cli(), ["experiments"])
    assert listed.exit_code == 0, listed.output
    lines = {line.split()[1]: line for line in listed.output.splitlines() if "│" in line}
    assert "keep running" in lines["checkout-onepage"]
    assert "not started" in lines["cta-colour"]
    api = client.get("/v1/experiments", params={"include": "results"}, headers=admin_headers)
    verdicts = {item["key"]: item["results"] for item in api.json()["items"]}
    assert verdicts["checkout-onepage"]["verdict"] == "keep_running"
    assert verdicts["cta-colour"]["verdict"] is None
    plain = client.get("/v1/experiments", headers=admin_headers).json()["items"]
    assert all(item["results"] is None for item in plain)  # computed only when asked for
    events = runner.invoke(build_cli(), ["events"])
    assert events.exit_code == 0, events.output
    assert "unused: newsletter_opened (1 event) is read by no metric" in events.output


def test_serve_says_when_the_port_is_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(build_cli(), ["serve", "--port", str(port)])
    assert result.exit_code == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in result.output
    assert f"make run PORT={port + 1}" in result.output


@pytest.mark.processes
def test_make_run_passes_port_on() -> None:
    """A dry run (`make -n`) that builds nothing: the install stamp is assumed old (`-o`), so no
    venv is made and no pip runs, whatever the stamp's age or absence. (Naming an existing file
    as the stamp is no way out: `INSTALLED=Makefile` turned the install rule into a rule for the
    makefile itself, which GNU make runs even under -n once pyproject.toml is newer.)"""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    root = Path(__file__).resolve().parents[2]
    dry_run = subprocess.run(
        [make, "-n", "-C", str(root), "-o", ".venv/.installed", "run", "PORT=8123", "VENV=.venv"],
        capture_output=True,
        text=True,
        check=True,
    )
    commands = [line for line in dry_run.stdout.splitlines() if not line.startswith("make")]
    assert len(commands) == 1, dry_run.stdout
    assert "vekst serve --port 8123" in commands[0]


@pytest.mark.parametrize("command", ["results", "snapshot", "history"])
def test_a_mistyped_key_gets_the_closest_keys_and_the_database_searched(
    client: TestClient, admin_headers: dict[str, str], cli_settings: Settings, command: str
) -> None:
    key = start_checkout(client, admin_headers)
    shown = make_url(cli_settings.database_url).render_as_string(hide_password=True)
    result = CliRunner().invoke(build_cli(), [command, key[:-1]])
    assert result.exit_code == 1
    assert result.output == (
        f"no experiment with key '{key[:-1]}' in the database at {shown}. Did you mean '{key}'?\n"
    )
    far = CliRunner().invoke(build_cli(), [command, "newsletter-spring"])
    assert far.exit_code == 1
    assert "`vekst experiments` lists its experiments." in far.output


def test_a_key_in_an_empty_database_asks_whether_it_is_the_right_one(
    cli_settings: Settings,
) -> None:
    result = CliRunner().invoke(build_cli(), ["results", "checkout-onepage"])
    assert result.exit_code == 1
    assert "It has no experiments yet; is VEKST_DATABASE_URL the server's database?" in (
        result.output
    )


@pytest.mark.usefixtures("cli_settings")
def test_as_of_before_the_start_says_the_experiment_had_not_started(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    key = start_checkout(client, admin_headers)
    started = client.get(f"/v1/experiments/{key}", headers=admin_headers).json()["started_at"]
    result = CliRunner().invoke(build_cli(), ["results", key, "--as-of", "2020-01-01T00:00:00"])
    assert result.exit_code == 1
    assert result.output == (
        f"{key} had not started at 2020-01-01 00:00 UTC: it started at "
        f"{started[:10]} {started[11:16]} UTC. Pass a later --as-of, or none for the latest "
        "results.\n"
    )
    draft = experiment_body("cta-colour", template="cta")
    assert client.post("/v1/experiments", json=draft, headers=admin_headers).status_code == 201
    result = CliRunner().invoke(build_cli(), ["results", "cta-colour", "--as-of", "2026-01-01"])
    assert result.exit_code == 1
    assert "cta-colour has not started yet, so it has no results at 2026-01-01 00:00 UTC" in (
        result.output
    )


@pytest.mark.usefixtures("cli_settings")
def test_events_names_a_metric_event_that_never_arrived(
    client: TestClient, admin_headers: dict[str, str], sdk_headers: dict[str, str]
) -> None:
    running_experiment(client, admin_headers)
    send(client, sdk_headers, [purchase(), purchase(name="checkout_started", value=None)])
    result = CliRunner().invoke(build_cli(), ["events"])
    assert result.exit_code == 0, result.output
    assert (
        "missing: checkout-onepage's metric cart_abandonment reads add_to_cart, which has not "
        'arrived in 24 hours (none ever arrived); check that the shop sends track("add_to_cart")'
    ) in result.output
    assert "reads purchase" not in result.output


def test_demo_names_the_url_it_tried_and_the_flag() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    result = CliRunner().invoke(build_cli(), ["demo", "--admin-key", "k", "--api-url", url])
    assert result.exit_code == 1
    assert result.output.startswith(f"Could not reach a Vekst server at {url}/v1/experiments (")
    assert "Start one with `make run`, or point the demo at yours with --api-url URL" in (
        result.output
    )


def test_the_readme_names_the_admin_key_one_way_and_the_guides_cta_example_works(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    for guide in (README, API_GUIDE):
        text = guide.read_text()
        assert "$ADMIN_KEY" not in text and "export ADMIN_KEY" not in text
        assert "export VEKST_ADMIN_KEY=" in text  # the name `vekst demo` reads
    [body] = re.findall(
        r"-d '(\{\"key\": \"cta-text\".*?\})'", API_GUIDE.read_text(), flags=re.DOTALL
    )
    created = client.post("/v1/experiments", json=json.loads(body), headers=admin_headers)
    assert created.status_code == 201, created.text
    assert created.json()["metrics"]["primary"] == "cta_click_rate"
