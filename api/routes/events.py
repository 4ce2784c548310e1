"""Event intake (sdk key) and the event summary (admin key)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from redis.exceptions import RedisError

from api.deps import AdminKey, SdkKey, authorize_secret, get_engine
from experiments.errors import AuthenticationError, InvalidInputError
from experiments.events import (
    BatchTooLargeError,
    EventPipeline,
    MalformedBodyError,
    count_events,
    stream_backlog,
)
from experiments.models import KeyScope

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
    return await _ingest(request, await request.body())


@router.post(
    "/beacon",
    status_code=202,
    responses={
        202: {"description": "{accepted, duplicates, rejected: [{index, errors}]}"},
        413: {"description": "More than 10,000 events, or a body above the size limit"},
    },
)
async def post_events_beacon(request: Request) -> Response:
    """Events from `navigator.sendBeacon`, which cannot send an Authorization header.

    The body is `{"sdk_key": "...", "events": [...]}` in any content type (browsers send
    `text/plain`, which needs no CORS preflight); only sdk-scoped keys are taken, so an admin
    key never has to be in a page. Otherwise the same as `POST /v1/events`.
    """
    secret, body = _split_beacon(await request.body())
    await authorize_secret(request, secret, KeyScope.SDK)
    return await _ingest(request, body)


async def _ingest(request: Request, body: bytes) -> Response:
    try:
        result = await _pipeline(request).intake.ingest(body)
    except BatchTooLargeError as error:
        raise HTTPException(413, error.detail) from None
    return Response(orjson.dumps(result.as_dict()), 202, media_type="application/json")


def _split_beacon(body: bytes) -> tuple[str, bytes]:
    """The beacon's sdk key and the rest of its body, which is an ordinary events body."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise MalformedBodyError(f"the body is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise InvalidInputError("body", "must be a JSON object with 'sdk_key' and 'events'")
    secret = document.pop("sdk_key", None)
    if not isinstance(secret, str) or not secret.strip():
        raise AuthenticationError("a beacon needs its sdk key in the body's 'sdk_key' field")
    return secret.strip(), orjson.dumps(document)


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
    return {"exposures": counts.exposures, "conversions": counts.conversions, "backlog": backlog}
