"""Refused CORS preflights, logged once per origin with the setting that would allow them.

A browser reports a refused preflight to the page only as "Failed to fetch"; the server's
answer (a 400, or a 405 when no origin is allowed at all) names nothing either. So the first
refusal of each origin is logged as a warning naming `VEKST_CORS_ORIGINS` and the origin,
which is what the developer has to add.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger(__name__)

MAX_REMEMBERED_ORIGINS = 1000
MAX_SHOWN_LENGTH = 200  # an Origin header may be kilobytes long; a real origin never is


class RefusedPreflightLog:
    """ASGI middleware: passes every request on; logs the first refused preflight per origin.

    At most `MAX_REMEMBERED_ORIGINS` origins are remembered (then the memory starts over), so a
    client sending a new Origin header with every request cannot grow it without bound.
    """

    def __init__(self, app: ASGIApp, allowed_origins: Sequence[str]) -> None:
        self.app = app
        self._allowed = frozenset(allowed_origins)
        self._logged: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            headers = Headers(scope=scope)
            origin = headers.get("origin")
            if origin and "access-control-request-method" in headers:
                self._note(origin[:MAX_SHOWN_LENGTH])
        await self.app(scope, receive, send)

    def _note(self, origin: str) -> None:
        if "*" in self._allowed or origin in self._allowed or origin in self._logged:
            return
        if len(self._logged) >= MAX_REMEMBERED_ORIGINS:
            self._logged.clear()
        self._logged.add(origin)
        allowed = ", ".join(sorted(self._allowed)) or "none"
        logger.warning(
            "refused a CORS preflight from origin %r: add it to VEKST_CORS_ORIGINS "
            "(comma-separated; allowed now: %s)",
            origin,
            allowed,
        )
