"""`vekst history KEY` prints each recorded change with who made it, before -> after."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import build_cli
from tests.api.helpers import URL, Headers, create, start


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
