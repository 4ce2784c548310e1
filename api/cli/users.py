"""`vekst users create|list`: the first admin, and any account an operator makes by hand.

The password is never an argument (it would stay in the shell's history and show in `ps`): it
is asked for twice, hidden, at a terminal, or read as the first line of standard input
(`printf '%s\\n' "$PASSWORD" | vekst users create --role admin --email ana@example.com`).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from api.cli.local_db import local_session
from experiments import users as user_store
from experiments.models.user import UserRole

users_cli = typer.Typer(help="Accounts for the pages.", no_args_is_help=True)


def read_password() -> str:
    """Asked twice at a terminal (hidden), else the first line of standard input."""
    if sys.stdin.isatty():
        password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        return password
    return sys.stdin.readline().rstrip("\r\n")


@users_cli.command("create")
def create(
    email: Annotated[str, typer.Option(help="The person's e-mail address: their login.")],
    role: Annotated[
        UserRole,
        typer.Option(help="viewer (reads), editor (also changes experiments) or admin."),
    ] = UserRole.VIEWER,
) -> None:
    """Create an account (the first admin: `--role admin`); the password is asked for."""
    password = read_password()
    with local_session() as session:
        user = user_store.create_user(session, email, password, role)
        shown = user_store.to_public(user)
    typer.echo(f"id {shown.id}, {shown.email}, role {shown.role.value}")


@users_cli.command("list")
def list_users() -> None:
    """List accounts (ids, e-mails, roles, active or disabled)."""
    with local_session() as session:
        for user in user_store.list_users(session):
            shown = user_store.to_public(user)
            state = "disabled" if shown.disabled else "active"
            typer.echo(f"{shown.id}\t{shown.email}\t{shown.role.value}\t{state}")
