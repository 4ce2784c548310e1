"""Event intake (sdk key) and the event summary (admin key)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from redis.exceptions import RedisError

from api.deps import AdminKey, SdkKey, get_engine
from experiments.events import BatchTooLargeError, EventPipeline, count_events, stream_backlog

router = APIRouter(prefix="/v1/events", tags=["events"])


def _pipeline(request: Request) -> EventPipeline:
    pipeline: EventPipeline = request.app.state.events
    return pipeline


@router.post(
    "",
    status_code=202,
    responses={
        202: {"description": "{accepted, duplicates, rejected: [{index, errors}]}"},
        413: {"description": "More than 10,000 events, or a body above the size limit"},
    },
)
async def post_events(request: Request, _key: SdkKey) -> Response:
    # The body is parsed by hand: one bad event must reject only itself, and it is faster.
    body = await request.body()
    try:
        result = await _pipeline(request).intake.ingest(body)
    except BatchTooLargeError as error:
        raise HTTPException(413, error.detail) from None
    return Response(orjson.dumps(result.as_dict()), 202, media_type="application/json")


@router.get("/summary")
async def events_summary(request: Request, _key: AdminKey) -> dict[str, Any]:
    pipeline = _pipeline(request)
    counts = await run_in_threadpool(count_events, get_engine(request))
    backlog = None
    if pipeline.redis is not None:
        try:
            backlog = await stream_backlog(pipeline.redis, pipeline.keys)
        except (RedisError, OSError) as error:
            backlog = {"stream": pipeline.keys.stream, "error": f"unreachable: {error}"}
    return {
        "exposures": counts.exposures,
        "conversions": counts.conversions,
        "unused_event_names": counts.unused,
        "backlog": backlog,
    }
