"""`vekst worker`: move events from the Redis Stream into the database until stopped."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Annotated

import typer

from api.observability.logs import configure_logging
from api.runtime import freeze_startup_heap
from experiments.db import make_engine
from experiments.events import StreamKeys, StreamWorker, WorkerOptions
from experiments.events.streams import sync_redis
from experiments.events.supervisor import Supervisor
from experiments.settings import load_settings


def worker(
    claim_idle_seconds: Annotated[
        float,
        typer.Option(min=0.1, help="Take over entries another worker left pending this long."),
    ] = 15.0,
    entries_per_read: Annotated[
        int, typer.Option(min=1, help="Stream entries (batches) read and stored at once.")
    ] = 100,
    prefix: Annotated[
        str | None,
        typer.Option(
            help="Redis key prefix of the event stream [default: VEKST_EVENT_STREAM_PREFIX]"
        ),
    ] = None,
) -> None:
    """Store buffered events (needs VEKST_REDIS_URL); stops cleanly on SIGTERM or Ctrl-C."""
    settings = load_settings()
    if not settings.redis_url:
        raise typer.BadParameter("VEKST_REDIS_URL must be set: without Redis there is no stream")
    configure_logging(settings.log_format, settings.log_level)
    options = WorkerOptions(
        entries_per_read=entries_per_read, claim_idle_seconds=claim_idle_seconds
    )
    keys = StreamKeys(prefix or settings.event_stream_prefix)
    engine = make_engine(settings.database_url)
    client = sync_redis(settings.redis_url, options.block_seconds)
    stream_worker = StreamWorker(client, engine, keys, options)
    stop = threading.Event()

    def request_stop(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    typer.echo(f"event worker {stream_worker.consumer} reading {keys.stream}")
    freeze_startup_heap()
    try:
        # Bad data never ends this loop (it is dead-lettered); a crash restarts it with backoff.
        Supervisor(stream_worker, stop).run()
    finally:
        client.close()
        engine.dispose()
    typer.echo(
        f"event worker stopped after storing {stream_worker.stored} events "
        f"({stream_worker.dead_lettered} moved to {keys.dead_letters})"
    )


def register(cli: typer.Typer) -> None:
    cli.command()(worker)
