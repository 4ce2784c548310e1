"""The application factory: everything is built from the settings passed in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from api.auth import KeyVerifier
from api.limits import BodySizeLimit
from api.pages import routes as pages
from api.pages.sessions import SessionSigner
from api.problems import install_problem_handlers
from api.routes import (
    assign,
    audit,
    counts,
    events,
    experiments,
    health,
    metrics,
    results,
    sdk,
    stats,
    webhooks,
)
from api.runtime import freeze_startup_heap
from experiments.assignment import EvaluatorCache
from experiments.db import make_engine
from experiments.events import build_event_pipeline
from experiments.scheduling import Scheduler
from experiments.settings import Settings, load_settings


def create_app(settings: Settings) -> FastAPI:
    """Build the API for `settings`; the database schema must already be migrated."""
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.events.start()
        scheduler = Scheduler(engine, settings)
        scheduled = None
        if settings.start_scheduler:
            scheduled = asyncio.create_task(scheduler.run_forever())
        app.state.scheduler = scheduled
        yield
        if scheduled is not None:
            # Not cancelled: a tick's thread would go on using the engine disposed below.
            scheduler.stop()
            await scheduled
        await app.state.events.close()
        engine.dispose()

    app = FastAPI(
        title="Vekst",
        version="0.1.0",
        summary="A/B testing and experimentation for online shops",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.key_verifier = KeyVerifier(engine, settings)
    app.state.evaluator_cache = EvaluatorCache(engine)
    app.state.events = build_event_pipeline(settings, engine)
    app.state.page_sessions = SessionSigner.for_settings(settings)
    install_problem_handlers(app)
    # Routes are matched in order: the per-visitor hot paths come first.
    for router in (
        assign.router,
        events.router,
        sdk.router,
        health.router,
        experiments.router,
        metrics.router,
        results.router,
        counts.router,
        stats.router,
        audit.router,
        webhooks.router,
    ):
        app.include_router(router)
    # The results pages for people (HTML, not in the OpenAPI) and their one stylesheet.
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=pages.HERE / "static"), name="static")
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "If-None-Match"],
            expose_headers=["ETag"],
        )
    return app


def create_app_from_environment() -> FastAPI:
    """Factory for `uvicorn --factory` (each worker process builds its own app)."""
    app = create_app(load_settings())
    freeze_startup_heap()
    return app
