"""The pipeline is built from the settings: stream prefix and dedupe window included."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import orjson
import redis

from experiments.db import make_engine
from experiments.events.pipeline import build_event_pipeline
from experiments.events.streams import StreamKeys
from experiments.settings import load_settings


def test_stream_prefix_and_dedupe_window_come_from_the_settings(
    redis_url: str, sqlite_url: str, keys: StreamKeys
) -> None:
    settings = load_settings(
        database_url=sqlite_url,
        redis_url=redis_url,
        start_worker=False,
        event_stream_prefix=keys.prefix,
        event_dedupe_hours=0.5,
    )
    engine = make_engine(sqlite_url)
    pipeline = build_event_pipeline(settings, engine)
    body = {"events": [{"event_id": "e1", "type": "conversion", "unit_id": "u", "name": "buy"}]}

    async def ingest() -> tuple[int, int]:
        try:
            first = await pipeline.intake.ingest(
                orjson.dumps(body), datetime.now(UTC), source="sdk"
            )
            again = await pipeline.intake.ingest(
                orjson.dumps(body), datetime.now(UTC), source="sdk"
            )
            return first.accepted, again.duplicates
        finally:
            await pipeline.close()

    moment = datetime.now(UTC)
    assert asyncio.run(ingest()) == (1, 1)
    assert pipeline.keys.prefix == keys.prefix
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.xlen(pipeline.keys.stream) == 1
        claims = pipeline.keys.seen(int(moment.timestamp() // 1800))
        assert client.sismember(claims, "e1")
        assert 3500 < client.ttl(claims) <= 3600  # two dedupe periods of half an hour
    finally:
        client.close()
        engine.dispose()
