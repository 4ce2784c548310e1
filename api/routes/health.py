"""Liveness and readiness probes (no key needed; without one they reveal nothing but what is up
or down).

Readiness means "this instance can store events": `/readyz` answers 503 only when events can
go nowhere (the database is down and Redis is down or not used). With Redis down but the
database up, events go straight to SQL: 200 with status `degraded`, and so when the database
is down but Redis buffers the events, when the event worker is restarting, or when Redis keeps
nothing on disk. Without a key each component is one word (`ok`, `degraded`, `unreachable`);
the errors, the worker's counts and the warnings, which may name internal hosts and ports,
need the admin key or the metrics token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import Engine

from api.deps import authorize_operations, get_engine
from api.problems import problem_responses
from experiments.events import EventPipeline
from experiments.events.entries import describe_error
from experiments.events.streams import persistence_problem
from experiments.events.supervisor import WorkerStatus

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={
        200: {"description": "Events can be stored: status `ready` or `degraded`"},
        503: {"description": "Events cannot be stored (status `not ready`)"},
        # Only when a key is sent that is neither the admin key nor the metrics token.
        **problem_responses(401, 403),
    },
)
async def readyz(request: Request) -> JSONResponse:
    """Whether this instance can store events; `checks` says one word per component, or, sent
    the admin key or the metrics token, each component's details (the errors too)."""
    detailed = "authorization" in request.headers
    if detailed:
        await authorize_operations(request)
    report = _Report()
    database_ok = await _check_database(get_engine(request), report)
    pipeline: EventPipeline = request.app.state.events
    redis_ok = pipeline.redis is not None and await _check_redis(pipeline.redis, report)
    if pipeline.worker is not None:
        _check_worker(pipeline.worker.status(), report)
    if not database_ok and not redis_ok:
        status, code = "not ready", 503
    else:
        degraded = not database_ok or (pipeline.redis is not None and not redis_ok)
        status, code = ("degraded" if degraded or report.warnings else "ready"), 200
    if not detailed:
        return JSONResponse({"status": status, "checks": report.words}, status_code=code)
    body: dict[str, Any] = {"status": status, "checks": report.details}
    if report.warnings:
        body["warnings"] = report.warnings
    return JSONResponse(body, status_code=code)


@dataclass
class _Report:
    """Each component's state: a word for anyone (`words`), details for operators."""

    words: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


async def _check_database(engine: Engine, report: _Report) -> bool:
    def ping() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    try:
        await run_in_threadpool(ping)
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        report.words["database"] = "unreachable"
        report.details["database"] = f"unreachable: {type(exc).__name__}"
        return False
    report.words["database"] = report.details["database"] = "ok"
    return True


async def _check_redis(client: Redis[bytes], report: _Report) -> bool:
    try:
        await client.ping()
    except Exception as exc:  # noqa: BLE001
        report.words["redis"] = "unreachable"
        report.details["redis"] = f"unreachable: {describe_error(exc)}"
        return False
    report.words["redis"] = report.details["redis"] = "ok"
    problem = await _persistence_problem(client)
    if problem is not None:
        report.words["redis"] = "degraded"
        report.details["redis_persistence"] = "none (appendonly is off)"
        report.warnings.append(problem)
    return True


def _check_worker(status: WorkerStatus, report: _Report) -> None:
    stalled = status.state in ("restarting", "stopped")
    report.words["worker"] = "degraded" if stalled else "ok"
    report.details["worker"] = status.as_dict()
    if stalled:
        report.warnings.append(f"the event worker is {status.state}")


async def _persistence_problem(client: Redis[bytes]) -> str | None:
    # A managed Redis may refuse INFO: then nothing is known, and nothing is claimed.
    try:
        info = await client.info("persistence")
    except Exception:  # noqa: BLE001
        return None
    return persistence_problem(info)
