"""A request-body size limit enforced before the body is read (413 with the limit stated);
some routes have a smaller one of their own.

A page's form (a urlencoded POST outside `/v1/`) declared over the limit is not refused here
when `page_forms` is on: the app gets it with an empty body, `TOO_LARGE_SCOPE_KEY` in its scope
(the limit in bytes) and `TOO_LARGE_HEAD_SCOPE_KEY` (the body's first `FORM_HEAD_BYTES`), so the
page shows the error beside the field that was too large instead of a bare 413
(`api.pages.workspace.forms`). The rest of the body is never read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True, slots=True)
class _Limit:
    """The limit a request's body is held to, and the route that has it as its own ("" when
    it is the general one)."""

    max_bytes: int
    route: str

    def rule(self) -> str:
        on = f" of {self.route}" if self.route else ""
        return f"the request body{on} must be at most {self.max_bytes} bytes"


TOO_LARGE_SCOPE_KEY = "vekst.form_too_large"
TOO_LARGE_HEAD_SCOPE_KEY = "vekst.form_too_large_head"
FORM_HEAD_BYTES = 64 * 1024
"""How much of a form past the limit is read: a form's usual fields fit in it many times over,
so the field still running at its end is the one too large."""


class BodyTooLargeError(HTTPException):
    """Raised while streaming; an HTTPException so FastAPI's body parsing passes it through."""

    def __init__(self, limit: _Limit) -> None:
        super().__init__(413, limit.rule())


def _declared_length(scope: Scope) -> int | None:
    """The request's Content-Length, or None when it has none (a chunked body)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodySizeLimit:
    """Refuses bodies larger than `max_bytes`, or than the limit of their path in `routes`
    (exact paths; the smaller of the two applies), by Content-Length or while streaming.

    A body with a Content-Length within the limit is passed through untouched: the HTTP server
    never delivers more bytes than the length declared (the rest would be the next request).
    Only a body without one (chunked) is counted as it arrives.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        routes: Mapping[str, int] | None = None,
        page_forms: bool = False,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.page_forms = page_forms
        self._routes = {path: min(limit, max_bytes) for path, limit in (routes or {}).items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_of(scope)
        declared = _declared_length(scope)
        if declared is None:
            await self._counted(scope, receive, send, limit)
        elif declared > limit.max_bytes and self.page_forms and _is_page_form(scope):
            head = await _head(receive, FORM_HEAD_BYTES)
            large = {TOO_LARGE_SCOPE_KEY: limit.max_bytes, TOO_LARGE_HEAD_SCOPE_KEY: head}
            await self.app({**scope, **large}, _unread(receive), send)
        elif declared > limit.max_bytes:
            await _refuse(send, limit)
        else:
            await self.app(scope, receive, send)

    def _limit_of(self, scope: Scope) -> _Limit:
        # Behind a proxy's prefix (`--root-path`) the path carries the prefix, as in routing.
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        route = path[len(root) :] if path.startswith(root) else path
        own = self._routes.get(route)
        return _Limit(self.max_bytes, "") if own is None else _Limit(own, route)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: _Limit) -> None:
        """Pass a body of unknown length on, refusing it once it passes the limit."""
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit.max_bytes:
                    raise BodyTooLargeError(limit)
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
                await _refuse(send, limit)


def _is_page_form(scope: Scope) -> bool:
    """A form a page posts: urlencoded, outside the API's `/v1/`."""
    if scope.get("method") != "POST" or str(scope["path"]).startswith("/v1/"):
        return False
    for name, value in scope["headers"]:
        if name == b"content-type":
            return bytes(value).startswith(b"application/x-www-form-urlencoded")
    return False


async def _head(receive: Receive, max_bytes: int) -> bytes:
    """The body's first `max_bytes` (fewer if the client stops sending): read in the chunks the
    server delivers, so at most one chunk more is read."""
    chunks: list[bytes] = []
    received = 0
    while received < max_bytes:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        chunks.append(chunk)
        received += len(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)[:max_bytes]


def _unread(receive: Receive) -> Receive:
    """A receive whose body is empty: the rest of the request's own is left unread (the server
    discards it or closes the connection); later calls (waiting for a disconnect) go to
    `receive`."""
    answered = False

    async def empty() -> Message:
        nonlocal answered
        if answered:
            return await receive()
        answered = True
        return {"type": "http.request", "body": b"", "more_body": False}

    return empty


async def _refuse(send: Send, limit: _Limit) -> None:
    body = json.dumps(
        {
            "type": "urn:vekst:problem:payload-too-large",
            "title": "Payload too large",
            "status": 413,
            "detail": limit.rule(),
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
