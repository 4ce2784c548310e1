"""`vekst keys create|revoke|list`."""

from __future__ import annotations

from typing import Annotated

import typer

from experiments import keys as key_store
from experiments.db import make_engine, session_scope
from experiments.errors import NotFoundError
from experiments.models import KeyScope
from experiments.settings import load_settings

keys_cli = typer.Typer(help="API keys.", no_args_is_help=True)


@keys_cli.command("create")
def create(
    scope: Annotated[KeyScope, typer.Option(help="admin or sdk.")],
    name: Annotated[str, typer.Option(help="A note to recognise the key by.")] = "",
) -> None:
    """Create a key and print its secret once (after it is committed)."""
    engine = make_engine(load_settings().database_url)
    with session_scope(engine) as session:
        issued = key_store.create_key(session, scope, name)
    engine.dispose()
    typer.echo(f"id {issued.id}, scope {issued.scope.value}, prefix {issued.prefix}")
    typer.echo(issued.secret)


@keys_cli.command("revoke")
def revoke(
    key: Annotated[str, typer.Argument(help="The key's id or its printed prefix.")],
) -> None:
    """Revoke a key; it stops working at once."""
    engine = make_engine(load_settings().database_url)
    try:
        with session_scope(engine) as session:
            record = key_store.revoke_key(session, key)
    except NotFoundError as exc:
        typer.echo(exc.detail, err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    # Said only once committed.
    typer.echo(f"revoked key {record.id} ({record.prefix}...)")


@keys_cli.command("list")
def list_keys() -> None:
    """List keys (ids, scopes, prefixes; never secrets)."""
    engine = make_engine(load_settings().database_url)
    with session_scope(engine) as session:
        for record in key_store.list_keys(session):
            state = "revoked" if record.revoked_at else "active"
            typer.echo(f"{record.id}\t{record.scope}\t{record.prefix}...\t{state}\t{record.name}")
    engine.dispose()
