"""The `vekst` command line: db upgrade, keys create/list/revoke, first-start keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import build_cli
from api.cli.server import bootstrap_keys
from experiments.settings import load_settings


@pytest.fixture
def db_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("VEKST_DATABASE_URL", url)
    return url


def test_keys_commands(db_env: str) -> None:
    runner = CliRunner()
    cli = build_cli()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    created = runner.invoke(cli, ["keys", "create", "--scope", "sdk", "--name", "shop"])
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]
    assert secret.startswith("vk_sdk_")
    listed = runner.invoke(cli, ["keys", "list"]).output
    assert "sdk" in listed and "active" in listed and secret not in listed
    revoked = runner.invoke(cli, ["keys", "revoke", "1"])
    assert revoked.exit_code == 0 and revoked.output.startswith("revoked key 1 (vk_sdk_")
    assert "revoked" in runner.invoke(cli, ["keys", "list"]).output
    missing = runner.invoke(cli, ["keys", "revoke", "1"])
    assert missing.exit_code == 1
    bad_scope = runner.invoke(cli, ["keys", "create", "--scope", "root"])
    assert bad_scope.exit_code != 0


def test_first_start_creates_two_keys_once(db_env: str) -> None:
    from experiments.migrate import upgrade

    upgrade(db_env)
    settings = load_settings()
    issued = bootstrap_keys(settings)
    assert sorted(key.scope.value for key in issued) == ["admin", "sdk"]
    assert bootstrap_keys(settings) == []
