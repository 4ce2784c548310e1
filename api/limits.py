"""A request-body size limit enforced before the body is read (413 with the limit stated)."""

from __future__ import annotations

import json

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLargeError(HTTPException):
    """Raised while streaming; an HTTPException so FastAPI's body parsing passes it through."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"the request body must be at most {max_bytes} bytes")


def _declared_length(scope: Scope) -> int | None:
    """The request's Content-Length, or None when it has none (a chunked body)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodySizeLimit:
    """Refuses bodies larger than `max_bytes`, by Content-Length or while streaming.

    A body with a Content-Length within the limit is passed through untouched: the HTTP server
    never delivers more bytes than the length declared (the rest would be the next request).
    Only a body without one (chunked) is counted as it arrives.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is None:
            await self._counted(scope, receive, send)
        elif declared > self.max_bytes:
            await self._refuse(send)
        else:
            await self.app(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass a body of unknown length on, refusing it once it passes the limit."""
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLargeError(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLargeError:
            if not response_started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {
                "type": "urn:vekst:problem:payload-too-large",
                "title": "Payload too large",
                "status": 413,
                "detail": f"the request body must be at most {self.max_bytes} bytes",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
