"""A short way through the app for the one route every page view calls (`POST /v1/assign`).

Routing and FastAPI's request handling cost about as much as the assignment itself (measured:
docs/benchmarks.md, "Assign: the hot path against a plain route"). `HotPath` calls the route's
own endpoint function directly for a request of that method and path; what the endpoint raises
(a missing key, a bad body, a rate limit) is answered by the handler the app has registered for
it, as the exception middleware would, so every answer is the one the route gives by the whole
way, only sooner.

What FastAPI would do around the endpoint (dependencies, parameters, the response model's
validation, a route's body limit) the hot path skips, so `HotPath` refuses a route that declares
any of it (`skipped_by_hot_path`): the endpoint takes the request alone and returns a response.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, get_type_hints

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send


class HotPath:
    """ASGI middleware serving `route` (its one method and its path) through its endpoint
    directly. Raises ValueError for a route that declares what the hot path would skip."""

    def __init__(self, app: ASGIApp, route: APIRoute) -> None:
        skipped = skipped_by_hot_path(route)
        if skipped:
            raise ValueError(f"the hot path would skip what {route.path} declares: {skipped}")
        [method] = route.methods or set()
        self.app = app
        self._route = route
        self._path = route.path
        self._method = method
        self._endpoint = route.endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._serves(scope):
            await self.app(scope, receive, send)
            return
        scope["route"] = self._route  # the request log and the metrics name the template
        request = Request(scope, receive)
        try:
            response = await self._endpoint(request)
        except Exception as error:
            response = await _handled(request, error)
        await response(scope, receive, send)

    def _serves(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] != self._method:
            return False
        # Behind a proxy's prefix (`--root-path`) the path carries the prefix, as in routing.
        return bool(scope["path"] == scope.get("root_path", "") + self._path)


def route_of(router: APIRouter, endpoint: Callable[..., Any]) -> APIRoute:
    """The one route of `router` that calls `endpoint`."""
    [route] = [r for r in router.routes if isinstance(r, APIRoute) and r.endpoint is endpoint]
    return route


def skipped_by_hot_path(route: APIRoute) -> list[str]:
    """What `route` declares that FastAPI would apply and the hot path would not: dependencies,
    parameters other than the request, a return value for the response model to check (the
    endpoint must return a `Response`), a route body limit, more than one method."""
    dependant = route.dependant
    skipped = [f"dependency {d.call!r}" for d in dependant.dependencies]
    parameters = [
        *dependant.path_params,
        *dependant.query_params,
        *dependant.header_params,
        *dependant.cookie_params,
        *dependant.body_params,
    ]
    skipped += [f"parameter {p.name!r}" for p in parameters]
    special = {
        "response": dependant.response_param_name,
        "background tasks": dependant.background_tasks_param_name,
        "security scopes": dependant.security_scopes_param_name,
    }
    skipped += [f"{kind} parameter {name!r}" for kind, name in special.items() if name]
    if dependant.request_param_name is None:
        skipped.append("no request parameter")
    returned = get_type_hints(route.endpoint).get("return")
    if not (isinstance(returned, type) and issubclass(returned, Response)):
        skipped.append(f"a return value of type {returned!r} for the response model to check")
    if route.max_body_size is not None:
        skipped.append(f"a body limit of {route.max_body_size} bytes")
    if len(route.methods or ()) != 1:
        skipped.append(f"methods {sorted(route.methods or ())}")
    return skipped


async def _handled(request: Request, error: Exception) -> Response:
    """The app's answer to `error` (its handler by status code, then by exception class), or
    `error` raised again for the server-error middleware when the app has no handler."""
    handlers: dict[Any, Callable[..., Any]] = request.app.exception_handlers
    handler = None
    if isinstance(error, HTTPException):
        handler = handlers.get(error.status_code)
    for kind in type(error).__mro__:
        if handler is not None:
            break
        handler = handlers.get(kind)
    if handler is None:
        raise error
    response = handler(request, error)
    return await response if inspect.isawaitable(response) else response  # type: ignore[no-any-return]
