"""A short way through the app for the one route every page view calls (`POST /v1/assign`).

Routing and FastAPI's request handling cost about as much as the assignment itself. `HotPath`
calls the route's own endpoint function directly for a request of that method and path; what
the endpoint raises (a missing key, a bad body, a rate limit) is answered by the handler the
app has registered for it, as the exception middleware would, so every answer is the one the
route gives by the whole way, only sooner.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

Endpoint = Callable[[Request], Awaitable[Response]]


class HotPath:
    """ASGI middleware serving `route` (method and path) through `endpoint` directly."""

    def __init__(self, app: ASGIApp, route: BaseRoute, method: str, endpoint: Endpoint) -> None:
        self.app = app
        self._route = route
        self._path: str = getattr(route, "path")  # noqa: B009 (a route that matches a path)
        self._method = method
        self._endpoint = endpoint

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
