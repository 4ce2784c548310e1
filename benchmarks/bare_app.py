"""The comparison endpoint for HTTP benchmarks: a bare async FastAPI app that parses a request
body with pydantic and throws it away."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel


class BareAssignBody(BaseModel):
    unit_id: str
    attributes: dict[str, Any] | None = None
    experiments: list[str] | None = None
    expose: bool = False


def create_bare_app() -> FastAPI:
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/assign")
    async def assign(body: BareAssignBody) -> dict[str, bool]:
        return {"ok": bool(body.unit_id)}

    return app


class BareEvent(BaseModel):
    event_id: str | None = None
    type: str
    unit_id: str
    timestamp: int | str | None = None
    experiment: str | None = None
    variant: str | None = None
    name: str | None = None
    value: float | None = None
    properties: dict[str, Any] | None = None


class BareEventBatch(BaseModel):
    events: list[BareEvent]


def create_bare_events_app() -> FastAPI:
    """The event benchmarks' comparison: what any FastAPI service pays to parse a batch of
    events before doing any work."""
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/events", status_code=202)
    async def drop(batch: BareEventBatch) -> dict[str, int]:
        return {"accepted": len(batch.events)}

    return app
