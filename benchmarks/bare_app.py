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
