"""Putting the routers' routes into an app."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """Serve `router`'s routes in `app`, after the routes it has, as `app.include_router(router)`
    would without arguments (the OpenAPI is the same), but with the route objects the router
    built at import rather than copies of them. FastAPI builds each included route again for
    each app (its dependencies and its response model's validator: about 0.1 s of CPU for
    this app's 88 routes, paid at its first requests), which a server pays once but the tests,
    an app each, paid about a thousand times. The routers take no per-app options, so the
    copies were the same."""
    app.router.routes.extend(router.routes)
