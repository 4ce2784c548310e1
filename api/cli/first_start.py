"""The keys `vekst serve` creates on a first start, and where their secrets are shown once.

Under docker or systemd stdout is the log stream, which many people can read and which is kept
for long: a secret written there leaks. So the secrets go to the terminal only when stdout is
one; otherwise they are written to a new 0600 file (`VEKST_FIRST_START_KEYS_FILE`, by default
`first-start-keys.txt` next to the SQLite database, or under ./data with PostgreSQL), and the log
names only the keys' prefixes and the file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from sqlalchemy.engine import make_url

from api.cli.local_db import local_session
from experiments import keys as key_store
from experiments.models.api_key import KeyScope
from experiments.private_files import create_private_file, make_private_folders
from experiments.settings import Settings

KEYS_FILE_NAME = "first-start-keys.txt"


def bootstrap_keys(settings: Settings) -> list[key_store.IssuedKey]:
    """On a first start with no keys at all, create one admin and one sdk key."""
    if settings.admin_key or settings.sdk_key:
        return []
    with local_session(settings) as session:
        if key_store.count_keys(session) > 0:
            return []
        return [
            key_store.create_key(session, KeyScope.ADMIN, "created on first start"),
            key_store.create_key(session, KeyScope.SDK, "created on first start"),
        ]


def show_first_start_keys(
    issued: list[key_store.IssuedKey], settings: Settings, terminal: bool
) -> None:
    """Show the secrets of `issued` once: on stdout when it is a `terminal`, else in a new
    0600 file whose path, with the keys' prefixes only, goes to stdout."""
    if not issued:
        return
    if terminal:
        for key in issued:
            typer.echo(f"created {key.scope.value} key (shown once, store it now): {key.secret}")
        return
    path = _write_keys_file(issued, keys_file(settings))
    for key in issued:
        typer.echo(f"created {key.scope.value} key {key.prefix}... on first start")
    typer.echo(
        f"the new keys' secrets are in {path} (readable by this user only): store them "
        "where your secrets go, then delete the file"
    )


def keys_file(settings: Settings) -> Path:
    """Where a first start writes its keys when stdout is no terminal."""
    if settings.first_start_keys_file is not None:
        return settings.first_start_keys_file
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(str(url.database)).with_name(KEYS_FILE_NAME)
    return Path("data") / KEYS_FILE_NAME


def _write_keys_file(issued: list[key_store.IssuedKey], path: Path) -> Path:
    # A file left by an earlier first start is never overwritten: the keys go beside it.
    make_private_folders(path.parent)
    now = datetime.now(UTC)
    try:
        file = create_private_file(path)
    except FileExistsError:
        path = path.with_name(f"{path.stem}-{now:%Y%m%dT%H%M%S.%fZ}{path.suffix}")
        file = create_private_file(path)
    lines = [f"# Vekst keys created on first start, {now:%Y-%m-%d %H:%M:%S} UTC"]
    lines += [f"{key.scope.value}: {key.secret}" for key in issued]
    with file:
        file.write(("\n".join(lines) + "\n").encode())
    return path
