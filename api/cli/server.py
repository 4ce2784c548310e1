"""`vekst serve` and `vekst db upgrade`."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
from typing import Annotated

import typer
import uvicorn

from api.cli.first_start import bootstrap_keys, show_first_start_keys
from api.observability.metrics import MULTIPROCESS_ENV
from experiments.events.streams import check_persistence
from experiments.migrate import upgrade
from experiments.settings import load_settings

# SIGTERM: stop taking connections, answer the requests in flight for up to this long, then
# run the shutdown (the in-process event worker stores the batch in hand).
GRACEFUL_SHUTDOWN_SECONDS = 30
# A worker busy importing (scipy, on a loaded host) may miss uvicorn's 5 s liveness ping.
WORKER_HEALTHCHECK_SECONDS = 30

db_cli = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply all schema migrations to VEKST_DATABASE_URL."""
    settings = load_settings()
    upgrade(settings.database_url)
    typer.echo("database is up to date")


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated addresses of proxies whose X-Forwarded-Proto and "
            "X-Forwarded-For are trusted ('*': any); default: $FORWARDED_ALLOW_IPS, else "
            "127.0.0.1 and ::1."
        ),
    ] = None,
) -> None:
    """Apply migrations and serve the API."""
    port_problem = port_in_use(host, port)
    if port_problem is not None:
        typer.echo(
            f"Port {port} on {host} is already in use ({port_problem}); another server may be "
            f"running. Choose another port: `make run PORT={port + 1}` or "
            f"`vekst serve --port {port + 1}`.",
            err=True,
        )
        raise typer.Exit(1)
    settings = load_settings()
    upgrade(settings.database_url)
    show_first_start_keys(bootstrap_keys(settings), settings, terminal=sys.stdout.isatty())
    if settings.redis_url:
        problem = check_persistence(settings.redis_url)
        if problem is not None:
            typer.echo(f"warning: {problem}", err=True)
    # Several workers share their metrics through files in one directory (prometheus-client's
    # multiprocess mode), which each must know before it imports the client.
    metrics_dir = tempfile.mkdtemp(prefix="vekst-metrics-") if workers > 1 else None
    if metrics_dir is not None:
        os.environ[MULTIPROCESS_ENV] = metrics_dir
    try:
        uvicorn.run(
            "api.app:create_app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            # Behind a TLS proxy the request's scheme (the cookie's Secure flag) comes from it.
            forwarded_allow_ips=forwarded_allow_ips,
            loop="uvloop",
            http="httptools",
            log_level=settings.log_level,
            # The app's request log (JSON lines, route templates) replaces uvicorn's.
            access_log=False,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            # uvicorn kills and restarts a worker that has not answered its ping for this long.
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def port_in_use(host: str, port: int) -> str | None:
    """Why `port` cannot be listened on at `host`, or None when it is free."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as error:
        return error.strerror or str(error)
    return None


def register(cli: typer.Typer) -> None:
    cli.command()(serve)
    cli.add_typer(db_cli, name="db")
