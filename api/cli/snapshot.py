"""`vekst snapshot KEY`: take a new look of an experiment now and send the alerts it raises.

An admin-local tool like `vekst results`: it reads VEKST_DATABASE_URL directly.
"""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.local_db import local_engine, require_experiment
from experiments.db import session_scope
from experiments.encryption import KeyRing
from experiments.results.snapshots import stored_page, take_snapshot
from experiments.settings import load_settings
from experiments.webhooks.delivery import RetryPolicy, deliver_due
from experiments.webhooks.sender import HttpSender
from experiments.webhooks.store import queue_look_alerts
from experiments.webhooks.targets import TargetPolicy


def snapshot(key: Annotated[str, typer.Argument(help="The experiment's key.")]) -> None:
    """Take a new look (the first one backfills one look per day since the first exposure)."""
    settings = load_settings()
    with local_engine(settings) as engine:
        with session_scope(engine) as session:
            require_experiment(session, key)
            every = settings.full_look_every
            look = take_snapshot(session, key, on_new_look=queue_look_alerts, full_look_every=every)
            number, verdict, summary = look.look, look.verdict, stored_page(look).summary
        # Alerts are committed with the look; a failed attempt is retried by `vekst serve`.
        policy = RetryPolicy(settings.webhook_max_attempts, settings.webhook_retry_seconds)
        send = HttpSender(TargetPolicy(settings.webhook_allow_private_targets))
        sent = len(deliver_due(engine, send, policy, KeyRing.for_settings(settings)))
    typer.echo(f"look {number} of {key}: {verdict}. {summary}")
    if sent:
        typer.echo(f"{sent} webhook deliveries attempted")


def register(cli: typer.Typer) -> None:
    cli.command()(snapshot)
