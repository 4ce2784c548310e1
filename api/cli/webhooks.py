"""`vekst webhooks new-key|rotate-key`: the keys that encrypt webhook URLs and secrets at rest.

Rotation: put a new key first in VEKST_ENCRYPTION_KEYS (keep the old ones after it), restart the
servers, run `vekst webhooks rotate-key`, then drop the old keys (docs/deployment.md, section 5).
"""

from __future__ import annotations

import typer
from cryptography.fernet import Fernet

from api.cli.local_db import local_session
from experiments.encryption import KeyRing, UnreadableSecretError
from experiments.settings import load_settings
from experiments.webhooks.store import reseal_all

webhooks_cli = typer.Typer(
    help="Webhooks: the keys of their URLs and secrets.", no_args_is_help=True
)


@webhooks_cli.command("new-key")
def new_key() -> None:
    """Print a new encryption key, for VEKST_ENCRYPTION_KEYS."""
    typer.echo(Fernet.generate_key().decode())


@webhooks_cli.command("rotate-key")
def rotate_key() -> None:
    """Encrypt every stored webhook URL and secret again with the first key of
    VEKST_ENCRYPTION_KEYS (any of its keys may open them)."""
    settings = load_settings()
    keys = KeyRing.for_settings(settings)
    try:
        with local_session(settings) as session:
            count = reseal_all(session, keys)
    except UnreadableSecretError as error:
        typer.echo(
            "A stored webhook URL or secret opens with none of the keys in "
            "VEKST_ENCRYPTION_KEYS; add the key it was encrypted with (after the new one). "
            "Nothing was changed.",
            err=True,
        )
        raise typer.Exit(1) from error
    typer.echo(f"{count} webhooks encrypted with the first key")
