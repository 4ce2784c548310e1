"""The `vekst` command line."""

from __future__ import annotations

from functools import cache

import typer

from api.cli import (
    demo,
    experiments,
    history,
    holdouts,
    keys,
    results,
    retention,
    server,
    snapshot,
    stats,
    users,
    webhooks,
    worker,
)


@cache
def build_cli() -> typer.Typer:
    """The `vekst` app, built once per process: its commands are the same on every call, and
    typer derives the command line from it by introspection each time it runs it."""
    cli = typer.Typer(
        name="vekst",
        help="Vekst: A/B testing and experimentation for online shops.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
    )
    server.register(cli)
    worker.register(cli)
    stats.register(cli)
    results.register(cli)
    history.register(cli)
    experiments.register(cli)
    retention.register(experiments.events_cli)
    snapshot.register(cli)
    demo.register(cli)
    cli.add_typer(keys.keys_cli, name="keys")
    cli.add_typer(webhooks.webhooks_cli, name="webhooks")
    cli.add_typer(holdouts.holdouts_cli, name="holdouts")
    cli.add_typer(users.users_cli, name="users")
    return cli


def main() -> None:
    build_cli()()
