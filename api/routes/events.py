"""Event intake (sdk key) and the event summary (viewer key)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from redis.exceptions import RedisError

from api.deps import AuthFirstRoute, SdkKey, ViewerKey, authorize_secret, get_engine, json_body_doc
from api.observability import Telemetry
from api.observability.event_counts import count_decoded
from api.observability.event_counts import count_events as count_outcomes
from api.problems import PROTECTED, problem_responses
from api.rate_limits import RateLimiter
from api.responses import BacklogOut, EventsAccepted, EventsSummaryOut
from experiments.errors import AuthenticationError, InvalidInputError
from experiments.events import (
    BatchTooLargeError,
    EventPipeline,
    IngestResult,
    batch_events,
    count_events,
    decode_batch,
    parse_batch,
    parse_document,
    stream_backlog,
)
from experiments.events.wire import BeaconDoc, EventBatchDoc
from experiments.keys import KeyIdentity
from experiments.models.api_key import KeyScope

router = APIRouter(
    route_class=AuthFirstRoute,
    responses=problem_responses(*PROTECTED, 400),
    prefix="/v1/events",
    tags=["events"],
)


# The answers of both intake routes (the body parsed by hand, so documented here).
INTAKE_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"model": EventsAccepted, "description": "Accepted, repeated and rejected events"},
    413: {"description": "More than 10,000 events, or a body above the route's size limit"},
    429: {
        "description": "The event rate limit of the key, or of the client address (sdk key, "
        "beacon), is reached; the detail says which; see Retry-After"
    },
}


def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


def _pipeline(request: Request) -> EventPipeline:
    pipeline: EventPipeline = request.app.state.events
    return pipeline


@router.post(
    "",
    status_code=202,
    responses=INTAKE_RESPONSES,
    openapi_extra=json_body_doc(EventBatchDoc),
)
async def post_events(request: Request, key: SdkKey) -> Response:
    # The key was checked before the body is read (AuthFirstRoute), and a public key's client
    # pays before it is parsed. The body is parsed by hand: one bad event must reject only
    # itself, and it is faster. The usual batch is decoded whole (experiments.events.decoding).
    limiter = _limiter(request)
    paid = await limiter.prepay("events", request.scope, key)
    body = await request.body()
    wire_events = decode_batch(body)
    if wire_events is None:  # not a batch of well-typed events: parsed, judged event by event
        return await _ingest(request, parse_document(body), key, paid)
    await limiter.check("events", key, request.scope, len(wire_events), paid)
    intake = _pipeline(request).intake
    result = await intake.ingest_decoded(wire_events, source=key.source)
    telemetry: Telemetry = request.app.state.telemetry
    if result is None:  # typed, but some event breaks a rule the types cannot state
        raw_events = parse_batch(body)
        result = await intake.ingest_events(raw_events, source=key.source)
        count_outcomes(telemetry, raw_events, result)
    else:
        count_decoded(telemetry, wire_events, result)
    return _answer(result)


@router.post(
    "/beacon",
    status_code=202,
    responses=INTAKE_RESPONSES,
    openapi_extra=json_body_doc(BeaconDoc),
)
async def post_events_beacon(request: Request) -> Response:
    """Events from `navigator.sendBeacon`, which cannot send an Authorization header.

    The body is `{"sdk_key": "...", "events": [...]}` in any content type (browsers send
    `text/plain`, which needs no CORS preflight); only sdk-scoped keys are taken, so an admin
    key never has to be in a page. Otherwise the same as `POST /v1/events`.
    """
    # The key is in the body: the client pays before it is parsed (and the body is small, see
    # VEKST_BEACON_MAX_BODY_BYTES), so junk under no key costs its sender's budget too.
    paid = await _limiter(request).prepay("events", request.scope, None)
    document = parse_document(await request.body())
    key = await authorize_secret(request, _beacon_key(document), KeyScope.SDK)
    return await _ingest(request, document, key, paid)


def _beacon_key(document: Any) -> str:
    """Takes the sdk key out of a beacon's body, leaving an ordinary events body."""
    if not isinstance(document, dict):
        raise InvalidInputError("body", "must be a JSON object with 'sdk_key' and 'events'")
    secret = document.pop("sdk_key", None)
    if not isinstance(secret, str) or not secret.strip():
        raise AuthenticationError("a beacon needs its sdk key in the body's 'sdk_key' field")
    return secret.strip()


async def _ingest(request: Request, document: Any, key: KeyIdentity, paid: int) -> Response:
    try:
        raw_events = batch_events(document)
    except BatchTooLargeError as error:
        raise HTTPException(413, error.detail) from None
    await _limiter(request).check("events", key, request.scope, len(raw_events), paid)
    result = await _pipeline(request).intake.ingest_events(raw_events, source=key.source)
    telemetry: Telemetry = request.app.state.telemetry
    count_outcomes(telemetry, raw_events, result)
    return _answer(result)


def _answer(result: IngestResult) -> Response:
    return Response(orjson.dumps(result.as_dict()), 202, media_type="application/json")


@router.get("/summary", response_model=EventsSummaryOut)
async def events_summary(request: Request, _key: ViewerKey) -> EventsSummaryOut:
    pipeline = _pipeline(request)
    counts = await run_in_threadpool(count_events, get_engine(request))
    backlog: BacklogOut | None = None
    if pipeline.redis is not None:
        try:
            backlog = BacklogOut(**await stream_backlog(pipeline.redis, pipeline.keys))
        except (RedisError, OSError) as error:
            backlog = BacklogOut(stream=pipeline.keys.stream, error=f"unreachable: {error}")
    return EventsSummaryOut.model_validate(
        {
            "exposures": counts.exposures,
            "conversions": counts.conversions,
            "unused_event_names": counts.unused,
            "missing_events": counts.missing,
            "backlog": backlog,
        }
    )
