"""The request observer: times every request, counts it by route template and status class, and
writes one request-log line. A pure ASGI middleware, kept cheap because it sits on `/v1/assign`.

Each response carries `X-Request-ID`: the caller's own (1-64 letters, digits, `.`, `_`, `-`)
or a new random one, and the same id is in the log line, so a complaint can be found.
"""

from __future__ import annotations

import os
import re
import time

from prometheus_client import Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.observability.metrics import Telemetry
from api.observability.request_log import RequestLog

REQUEST_ID_HEADER = b"x-request-id"
_VALID_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")
UNMATCHED_ROUTE = "unmatched"  # a 404 for an unknown path: one label, whatever the path was


def _request_id(scope: Scope) -> bytes:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and _VALID_REQUEST_ID.fullmatch(value):
            return bytes(value)
    return os.urandom(8).hex().encode()


class RequestObserver:
    """Records each HTTP request's duration in `telemetry` and logs it to `request_log`."""

    def __init__(self, app: ASGIApp, telemetry: Telemetry, request_log: RequestLog | None) -> None:
        self.app = app
        self._histogram = telemetry.requests
        self._log = request_log
        self._children: dict[tuple[str, str, str], Histogram] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        status = 500  # what the client gets when the app raises before answering

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (REQUEST_ID_HEADER, request_id)]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            self._observe(scope, status, request_id, time.perf_counter() - started)

    def _observe(self, scope: Scope, status: int, request_id: bytes, seconds: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or UNMATCHED_ROUTE
        method: str = scope["method"]
        labels = (template, method, f"{status // 100}xx")
        child = self._children.get(labels)
        if child is None:
            child = self._children.setdefault(labels, self._histogram.labels(*labels))
        child.observe(seconds)
        if self._log is not None:
            self._log.record(request_id.decode(), method, template, status, seconds)
