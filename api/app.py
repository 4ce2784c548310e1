"""The application factory: everything is built from the settings passed in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from api.auth import KeyVerifier
from api.cors import RefusedPreflightLog
from api.hot_path import HotPath, route_of
from api.limits import BodySizeLimit
from api.observability import RequestLog, RequestObserver, Telemetry, configure_logging
from api.pages import access
from api.pages import docs as api_docs
from api.pages import login as page_login
from api.pages import routes as pages
from api.pages import users as users_pages
from api.pages.sessions import PageSessions
from api.pages.workspace import routers as workspace
from api.problems import install_problem_handlers
from api.rate_limits import Buckets, LocalBuckets, RateLimiter, RedisBuckets
from api.route_table import add_routes
from api.routes import (
    assign,
    audit,
    browser_sdk,
    counts,
    events,
    experiments,
    health,
    holdouts,
    metrics,
    prometheus,
    results,
    sdk,
    stats,
    webhooks,
)
from api.runtime import freeze_startup_heap
from experiments.assignment import EvaluatorCache, sticky_store
from experiments.changes import ChangeWatcher, change_channel
from experiments.db import make_engine
from experiments.encryption import KeyRing
from experiments.events import EventPipeline, build_event_pipeline
from experiments.events.streams import sync_redis
from experiments.preview_tokens import PreviewTokens
from experiments.scheduling import Scheduler
from experiments.settings import Settings, load_settings
from experiments.webhooks.targets import TargetPolicy


def create_app(settings: Settings) -> FastAPI:
    """Build the API for `settings`; the database schema must already be migrated."""
    engine = make_engine(settings.database_url)
    request_log = RequestLog(settings.log_format) if _logs_requests(settings) else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.events.start()
        app.state.changes.start()
        flushing = None
        if request_log is not None:
            flushing = asyncio.create_task(request_log.flush_periodically())
        scheduler = Scheduler(engine, settings, app.state.telemetry)
        scheduled = None
        if settings.start_scheduler:
            scheduled = asyncio.create_task(scheduler.run_forever())
        app.state.scheduler = scheduled
        yield
        if flushing is not None:
            flushing.cancel()
        if scheduled is not None:
            # Not cancelled: a tick's thread would go on using the engine disposed below.
            scheduler.stop()
            await scheduled
        # A delivery attempt under way gets a short wait, not its whole deadline; one left
        # behind stays claimed and is tried again later (by any process).
        await asyncio.to_thread(scheduler.close)
        # Uvicorn answers every request in flight before this runs (graceful SIGTERM); then the
        # in-process worker stores the batch in hand before it stops.
        app.state.changes.stop()
        await app.state.events.close()
        engine.dispose()

    app = FastAPI(
        title="Vekst",
        version="0.1.0",
        summary="A/B testing and experimentation for online shops",
        lifespan=lifespan,
        # FastAPI's own pages load their script from a CDN: /docs is `api_docs`, from local files.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.key_verifier = KeyVerifier(engine, settings)
    app.state.evaluator_cache = EvaluatorCache(engine, store=sticky_store(settings))
    app.state.events = build_event_pipeline(settings, engine)
    app.state.telemetry = Telemetry()
    app.state.rate_limiter = RateLimiter(
        settings,
        _buckets(settings, app.state.events),
        lambda limit: app.state.telemetry.rate_limited.labels(limit).inc(),
    )
    app.state.changes = _change_watcher(app, settings)
    app.state.page_sessions = PageSessions(engine, settings)
    app.state.preview_tokens = PreviewTokens(engine, settings)
    app.state.webhook_targets = TargetPolicy(settings.webhook_allow_private_targets)
    app.state.encryption_keys = KeyRing.for_settings(settings)
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
        holdouts.router,
        counts.router,
        stats.router,
        audit.router,
        prometheus.router,
        webhooks.router,
    ):
        add_routes(app, router)
    # The browser SDK's bundles at /static/vekst.min.js and .mjs (before the /static mount).
    app.state.browser_bundles = browser_sdk.load_bundles()
    add_routes(app, browser_sdk.router)
    # The pages for people (HTML, not in the OpenAPI) and their one stylesheet: the login, the
    # workspace's (`workspace.install`), then the results pages.
    add_routes(app, page_login.router)
    workspace.install(app)
    add_routes(app, pages.router)
    add_routes(app, users_pages.router)
    app.state.error_page = pages.error_page  # browsers get an HTML error page, APIs JSON
    if settings.serves_docs:
        add_routes(app, api_docs.router)
    app.mount("/static", StaticFiles(directory=access.HERE / "static"), name="static")
    # Innermost, so inside every limit and header: an assignment skips the routing.
    app.add_middleware(HotPath, route=route_of(assign.router, assign.assign))
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        # Public routes that never need much: a beacon (browsers send at most 64 KiB) and assign.
        routes={
            "/v1/events/beacon": settings.beacon_max_body_bytes,
            "/v1/assign": settings.assign_max_body_bytes,
        },
        page_forms=True,  # a page's form over the limit gets its error on the page
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "If-None-Match"],
            expose_headers=["ETag"],
        )
    app.add_middleware(RefusedPreflightLog, allowed_origins=settings.cors_origins)
    # Outermost: times and logs everything, the refusals of the middleware above included.
    app.add_middleware(RequestObserver, telemetry=app.state.telemetry, request_log=request_log)
    return app


def _logs_requests(settings: Settings) -> bool:
    return settings.request_log and settings.log_level in ("debug", "info")


def _buckets(settings: Settings, events: EventPipeline) -> Buckets:
    local = LocalBuckets()
    if events.redis is None:
        return local
    return RedisBuckets(events.redis, f"{settings.event_stream_prefix}:rate", local)


def _change_watcher(app: FastAPI, settings: Settings) -> ChangeWatcher:
    def forget_cached() -> None:
        app.state.evaluator_cache.invalidate()
        app.state.key_verifier.forget()
        app.state.events.intake.forget_catalog()
        app.state.telemetry.config_changes.inc()

    client = sync_redis(settings.redis_url, 1.0) if settings.redis_url else None
    channel = change_channel(settings.event_stream_prefix)
    return ChangeWatcher(
        app.state.engine, forget_cached, settings.config_poll_seconds, client, channel
    )


def create_app_from_environment() -> FastAPI:
    """Factory for `uvicorn --factory` (each worker process builds its own app)."""
    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    app = create_app(settings)
    freeze_startup_heap()
    return app
