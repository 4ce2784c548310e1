"""`vekst keys create|revoke|list`."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.local_db import local_session
from experiments import keys as key_store
from experiments.models.api_key import KeyScope

keys_cli = typer.Typer(help="API keys.", no_args_is_help=True)


@keys_cli.command("create")
def create(
    scope: Annotated[
        KeyScope,
        typer.Option(
            help="viewer (reads), editor (also writes), admin (also webhooks, keys, users), "
            "server (a shop backend's secret) or sdk (public, browsers)."
        ),
    ],
    name: Annotated[str, typer.Option(help="A note to recognise the key by.")] = "",
) -> None:
    """Create a key and print its secret once (after it is committed)."""
    with local_session() as session:
        issued = key_store.create_key(session, scope, name)
    typer.echo(f"id {issued.id}, scope {issued.scope.value}, prefix {issued.prefix}")
    typer.echo(issued.secret)


@keys_cli.command("revoke")
def revoke(
    key: Annotated[str, typer.Argument(help="The key's id or its printed prefix.")],
) -> None:
    """Revoke a key; it stops working at once."""
    with local_session() as session:
        record = key_store.revoke_key(session, key)
    # Said only once committed.
    typer.echo(f"revoked key {record.id} ({record.prefix}...)")


@keys_cli.command("list")
def list_keys() -> None:
    """List keys (ids, scopes, prefixes; never secrets)."""
    with local_session() as session:
        for record in key_store.list_keys(session):
            state = "revoked" if record.revoked_at else "active"
            typer.echo(f"{record.id}\t{record.scope}\t{record.prefix}...\t{state}\t{record.name}")
