"""Liveness and readiness probes (no key needed; they reveal nothing but what is up or down).

Readiness means "this instance can store events": `/readyz` answers 503 only when events can
go nowhere (the database is down and Redis is down or not used). With Redis down but the
database up, events go straight to SQL: 200 with status `degraded`, and so when the database
is down but Redis buffers the events, when the event worker is restarting, or when Redis keeps
nothing on disk.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from redis.asyncio import Redis
from sqlalchemy import text

from api.deps import get_engine
from experiments.events import EventPipeline
from experiments.events.entries import describe_error
from experiments.events.streams import persistence_problem

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={
        200: {"description": "Events can be stored: status `ready` or `degraded`"},
        503: {"description": "Events cannot be stored (status `not ready`)"},
    },
)
async def readyz(request: Request) -> JSONResponse:
    checks: dict[str, Any] = {}
    engine = get_engine(request)

    def ping_database() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    try:
        await run_in_threadpool(ping_database)
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        checks["database"] = f"unreachable: {type(exc).__name__}"
    database_ok = checks["database"] == "ok"
    pipeline: EventPipeline = request.app.state.events
    redis_ok = False
    warnings: list[str] = []
    if pipeline.redis is not None:
        try:
            await pipeline.redis.ping()
            redis_ok = True
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"unreachable: {describe_error(exc)}"
        problem = await _persistence_problem(pipeline.redis) if redis_ok else None
        if problem is not None:
            checks["redis_persistence"] = "none (appendonly is off)"
            warnings.append(problem)
    if pipeline.worker is not None:
        status = pipeline.worker.status()
        checks["worker"] = status.as_dict()
        if status.state in ("restarting", "stopped"):
            warnings.append(f"the event worker is {status.state}")
    if not database_ok and not redis_ok:
        return JSONResponse({"status": "not ready", "checks": checks}, status_code=503)
    degraded = not database_ok or (pipeline.redis is not None and not redis_ok) or warnings
    body: dict[str, Any] = {"status": "degraded" if degraded else "ready", "checks": checks}
    if warnings:
        body["warnings"] = warnings
    return JSONResponse(body)


async def _persistence_problem(client: Redis[bytes]) -> str | None:
    # A managed Redis may refuse INFO: then nothing is known, and nothing is claimed.
    try:
        info = await client.info("persistence")
    except Exception:  # noqa: BLE001
        return None
    return persistence_problem(info)
