"""`vekst history KEY` prints each recorded change with who made it, before -> after."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import build_cli
from experiments.settings import Settings
from tests.api.helpers import URL, Headers, create, start
from tests.api.test_audit import stored_key
from tests.api.test_newsletter import KEY as NEWSLETTER
from tests.api.test_newsletter import counts, sent_days_ago


@pytest.mark.usefixtures("cli_settings")
def test_history_command(client: TestClient, admin_headers: Headers) -> None:
    create(client, admin_headers)
    start(client, admin_headers)
    client.patch(URL, json={"name": "One page, take two"}, headers=admin_headers)
    runner = CliRunner()

    printed = runner.invoke(build_cli(), ["history", "checkout-onepage"])
    assert printed.exit_code == 0, printed.output
    heads = [line.split("  ")[1:] for line in printed.output.splitlines() if "UTC" in line]
    assert heads == [[a, "by environment admin key"] for a in ("created", "started", "updated")]
    assert '    status: "draft" -> "running"' in printed.output
    assert '    name: "One-page checkout" -> "One page, take two"' in printed.output

    as_json = json.loads(
        runner.invoke(build_cli(), ["history", "checkout-onepage", "--json"]).output
    )
    assert [entry["action"] for entry in as_json] == ["created", "started", "updated"]

    missing = runner.invoke(build_cli(), ["history", "no-such-experiment"])
    assert missing.exit_code == 1
    assert "no experiment with key" in missing.output


def test_history_shows_who_pasted_which_counts(
    client: TestClient, admin_headers: Headers, cli_settings: Settings
) -> None:
    sent = sent_days_ago(client, admin_headers, cli_settings)
    issued = stored_key(cli_settings, "mail desk")
    body = counts(sent + timedelta(days=3), 60, 90)
    headers = {"Authorization": f"Bearer {issued.secret}"}
    pasted = client.post(f"/v1/experiments/{NEWSLETTER}/counts", json=body, headers=headers)
    assert pasted.status_code == 201, pasted.text

    printed = CliRunner().invoke(build_cli(), ["history", NEWSLETTER])
    assert printed.exit_code == 0, printed.output
    heads = [line.split("  ")[1:] for line in printed.output.splitlines() if "UTC" in line]
    assert heads[-1] == ["counts created", f"by mail desk (key {issued.id})"]
    figures = printed.output.split("counts created")[1]
    assert f'    as_of: "{body["as_of"]}"' in figures
    assert '"control": {"sent": 2000, "opened": 500, "clicked": 60, "unsubscribed": 4}' in figures
