"""The `vekst` command line: db upgrade, keys create/list/revoke, first-start keys."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import build_cli
from api.cli.first_start import bootstrap_keys, show_first_start_keys
from experiments.migrate import upgrade
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
    upgrade(db_env)
    settings = load_settings()
    issued = bootstrap_keys(settings)
    assert sorted(key.scope.value for key in issued) == ["admin", "sdk"]
    assert bootstrap_keys(settings) == []


def _serve_without_listening(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """`vekst serve` up to the point where uvicorn would start; returns its output."""
    monkeypatch.setattr("api.cli.server.port_in_use", lambda _host, _port: None)
    monkeypatch.setattr("api.cli.server.uvicorn.run", lambda *_args, **_kwargs: None)
    result = CliRunner().invoke(build_cli(), ["serve"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_first_start_keys_reach_a_private_file_not_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Under systemd or docker stdout is the log (here: CliRunner's stream, no terminal either).
    database = tmp_path / "data" / "vekst.db"
    monkeypatch.setenv("VEKST_DATABASE_URL", f"sqlite:///{database}")
    earlier = database.with_name("first-start-keys.txt")
    previous_umask = os.umask(0o022)
    try:
        upgrade(f"sqlite:///{database}")
        earlier.write_text("an earlier first start's keys\n")
        output = _serve_without_listening(monkeypatch)
    finally:
        os.umask(previous_umask)
    assert earlier.read_text() == "an earlier first start's keys\n"  # never overwritten
    (written,) = database.parent.glob("first-start-keys-*.txt")
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    lines = written.read_text().splitlines()
    secrets = dict(line.split(": ") for line in lines if not line.startswith("#"))
    assert secrets["admin"].startswith("vk_admin_") and secrets["sdk"].startswith("vk_sdk_")
    log = "\n".join(output)
    assert secrets["admin"] not in log and secrets["sdk"] not in log
    assert f"created admin key {secrets['admin'][:12]}... on first start" in output
    assert f"created sdk key {secrets['sdk'][:12]}... on first start" in output
    assert f"the new keys' secrets are in {written} (readable by this user only)" in log
    listed = CliRunner().invoke(build_cli(), ["keys", "list"]).output
    assert secrets["admin"][:12] in listed and secrets["sdk"][:12] in listed
    assert _serve_without_listening(monkeypatch) == []  # keys exist now: nothing is created


def test_first_start_keys_file_can_be_set(
    db_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "secrets" / "vekst-keys"
    monkeypatch.setenv("VEKST_FIRST_START_KEYS_FILE", str(target))
    upgrade(db_env)
    output = _serve_without_listening(monkeypatch)
    assert output[-1].startswith(f"the new keys' secrets are in {target} ")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700


def test_first_start_keys_are_shown_on_a_terminal(
    db_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    upgrade(db_env)
    settings = load_settings()
    issued = bootstrap_keys(settings)
    show_first_start_keys(issued, settings, terminal=True)
    shown = capsys.readouterr().out
    for key in issued:
        assert f"created {key.scope.value} key (shown once, store it now): {key.secret}" in shown
    assert not list(tmp_path.glob("first-start-keys*"))
