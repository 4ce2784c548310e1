"""`vekst users create|list`: the first admin from the command line, the password never in
argv, the rules of passwords and e-mails as on the pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from api.cli import build_cli
from experiments import users
from experiments.db import make_engine
from experiments.migrate import upgrade

PASSWORD = "seven lilac otters sing"


@pytest.fixture
def db_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("VEKST_DATABASE_URL", url)
    upgrade(url)
    return url


def test_the_first_admin_is_made_with_the_password_on_stdin(db_env: str) -> None:
    cli = build_cli()
    runner = CliRunner()
    arguments = ["users", "create", "--role", "admin", "--email", "Ana@Shop.example"]
    created = runner.invoke(cli, arguments, input=PASSWORD + "\n")
    assert created.exit_code == 0, created.output
    assert "ana@shop.example, role admin" in created.output and PASSWORD not in created.output
    listed = runner.invoke(cli, ["users", "list"]).output
    assert "ana@shop.example\tadmin\tactive" in listed
    engine = make_engine(db_env)
    try:
        with Session(engine) as session:
            assert users.authenticate(session, "ana@shop.example", PASSWORD) is not None
            stored = users.find_by_email(session, "ana@shop.example")
            assert stored is not None and stored.password_hash.startswith("$argon2id$")
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("email", "password", "said"),
    [
        ("ana@shop.example", "short", "password must be at least 12 characters"),
        ("ana@shop.example", "password1234", "password is a common password"),
        ("not an address", PASSWORD, "email must be an e-mail address"),
        ("ana@shop.example", "nul\x00inside password", "password must not contain the NUL"),
    ],
)
def test_a_password_or_email_breaking_a_rule_is_refused(
    db_env: str, email: str, password: str, said: str
) -> None:
    result = CliRunner().invoke(
        build_cli(), ["users", "create", "--email", email], input=password + "\n"
    )
    assert result.exit_code == 1 and said in result.output
    assert CliRunner().invoke(build_cli(), ["users", "list"]).output == ""


def test_a_taken_email_and_an_unknown_role_are_refused(db_env: str) -> None:
    cli = build_cli()
    runner = CliRunner()
    first = runner.invoke(cli, ["users", "create", "--email", "a@b.example"], input=PASSWORD)
    assert first.exit_code == 0 and "role viewer" in first.output
    again = runner.invoke(cli, ["users", "create", "--email", "A@B.example"], input=PASSWORD)
    assert again.exit_code == 1 and "belongs to an account already" in again.output
    role = runner.invoke(cli, ["users", "create", "--email", "c@b.example", "--role", "root"])
    assert role.exit_code == 2
