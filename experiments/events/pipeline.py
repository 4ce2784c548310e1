"""Everything event ingestion needs in one API process, built from the settings."""

from __future__ import annotations

from dataclasses import dataclass, field

import redis.asyncio
from sqlalchemy.engine import Engine

from experiments.events.catalog import CachedCatalog
from experiments.events.intake import EventIntake
from experiments.events.sinks import DirectSink, EventSink, RedisStreamSink
from experiments.events.streams import StreamKeys, async_redis, sync_redis
from experiments.events.supervisor import BackgroundWorker
from experiments.events.worker import StreamWorker, WorkerOptions
from experiments.settings import Settings


@dataclass
class EventPipeline:
    """The intake the route calls, and the Redis client and worker thread it owns (if any)."""

    intake: EventIntake
    keys: StreamKeys
    redis: redis.asyncio.Redis[bytes] | None = None
    worker: BackgroundWorker | None = field(default=None)

    def start(self) -> None:
        """Start the in-process worker, if there is one."""
        if self.worker is not None:
            self.worker.start()

    async def close(self) -> None:
        """Stop the worker (it finishes the batch in hand) and close the Redis connection."""
        if self.worker is not None:
            self.worker.stop()
        if self.redis is not None:
            # The installed type stubs predate aclose(); close() is deprecated.
            await self.redis.aclose()  # type: ignore[attr-defined]


def build_event_pipeline(
    settings: Settings, engine: Engine, keys: StreamKeys | None = None
) -> EventPipeline:
    """Direct SQL writes without `settings.redis_url`; else the Redis Stream (with SQL as the
    fallback) and, unless `settings.start_worker` is false, a worker thread in this process.

    `keys` defaults to `settings.event_stream_prefix`; repeats are remembered on the Redis path
    for `settings.event_dedupe_hours`."""
    keys = keys or StreamKeys(settings.event_stream_prefix)
    catalog = CachedCatalog(engine)
    direct = DirectSink(engine)
    if not settings.redis_url:
        return EventPipeline(EventIntake(catalog, direct, settings.event_max_age_days), keys)
    client = async_redis(settings.redis_url)
    dedupe_seconds = round(settings.event_dedupe_hours * 3600)
    sink: EventSink = RedisStreamSink(client, direct, keys, dedupe_seconds=max(dedupe_seconds, 1))
    worker = None
    if settings.start_worker:
        options = WorkerOptions()
        stream_worker = StreamWorker(
            sync_redis(settings.redis_url, options.block_seconds), engine, keys, options
        )
        worker = BackgroundWorker(stream_worker)
    intake = EventIntake(catalog, sink, settings.event_max_age_days)
    return EventPipeline(intake, keys, client, worker)
