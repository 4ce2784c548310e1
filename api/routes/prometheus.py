"""`GET /metrics`: the Prometheus exposition of every worker process of this server, plus the
event stream's state read from Redis. Needs the admin key or `VEKST_METRICS_TOKEN`."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from redis.exceptions import RedisError

from api.deps import BEARER_SECURITY, authorize_operations
from api.observability import Telemetry
from api.problems import problem_responses
from experiments.events import EventPipeline, stream_backlog

router = APIRouter(tags=["operations"], responses=problem_responses(401, 403))


@router.get(
    "/metrics",
    response_class=Response,
    openapi_extra={"security": BEARER_SECURITY},
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
)
async def metrics(request: Request) -> Response:
    """Request latency, events by outcome, rate limiting, config changes seen, scheduled looks,
    webhook deliveries by outcome, the event stream
    (backlog, pending, dead letters, oldest entry's age); docs/deployment.md lists them."""
    await authorize_operations(request)
    telemetry: Telemetry = request.app.state.telemetry
    shared = await _stream_metrics(request.app.state.events)
    body = await run_in_threadpool(telemetry.render, shared)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


async def _stream_metrics(pipeline: EventPipeline) -> list[Metric]:
    if pipeline.redis is None:
        return []
    up = GaugeMetricFamily("vekst_redis_up", "1 when Redis answered this scrape, else 0.")
    try:
        backlog: dict[str, Any] = await stream_backlog(pipeline.redis, pipeline.keys)
        oldest: Any = await pipeline.redis.xrange(pipeline.keys.stream, count=1)
    except (RedisError, OSError):
        up.add_metric([], 0)
        return [up]
    up.add_metric([], 1)
    lag = 0.0
    if oldest:
        entry_id = oldest[0][0]
        entry_id = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        lag = max(0.0, time.time() - int(entry_id.split("-")[0]) / 1000)
    gauges = {
        "vekst_stream_backlog_entries": ("Stream entries (batches) not stored yet.", "entries"),
        "vekst_stream_pending_entries": ("Entries read by a worker, not yet acked.", "pending"),
        "vekst_stream_dead_letters": ("Batches or events set aside.", "dead_letters"),
        "vekst_stream_consumers": ("Workers in the stream's consumer group.", "consumers"),
    }
    found: list[Metric] = [up]
    for name, (description, field) in gauges.items():
        gauge = GaugeMetricFamily(name, description)
        gauge.add_metric([], float(backlog[field]))
        found.append(gauge)
    worker_lag = GaugeMetricFamily(
        "vekst_worker_lag_seconds", "Age of the oldest entry not yet stored (0 when none waits)."
    )
    worker_lag.add_metric([], lag)
    found.append(worker_lag)
    return found
