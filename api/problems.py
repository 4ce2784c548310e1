"""Errors as RFC 9457 problem documents (`application/problem+json`) naming the field and rule."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from experiments.errors import (
    AuthenticationError,
    ConflictError,
    FieldConflictError,
    InvalidInputError,
    NotConfiguredError,
    NotFoundError,
    PermissionDeniedError,
    VekstError,
)
from experiments.inputs import PATH_RULE_ERROR, SLUG_PATTERN, SLUG_RULE, printable
from stats import StatsInputError

PROBLEM_MEDIA_TYPE = "application/problem+json"

# The shape of every error answer, for the OpenAPI (written out: no references to resolve).
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "rule"],
                "properties": {"field": {"type": "string"}, "rule": {"type": "string"}},
            },
        },
    },
}
# What any route with a key and a body or parameters can answer besides its success.
PROTECTED = (400, 401, 403, 413, 422)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for problem documents of these statuses."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}},
        }
        for status in statuses
    }


_STATUS_OF: dict[type[VekstError], tuple[int, str]] = {
    InvalidInputError: (422, "Invalid input"),
    NotFoundError: (404, "Not found"),
    ConflictError: (409, "Conflict"),
    AuthenticationError: (401, "Unauthorized"),
    PermissionDeniedError: (403, "Forbidden"),
    NotConfiguredError: (503, "Service unavailable"),
}


def problem(
    status: int,
    title: str,
    detail: str,
    errors: Sequence[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:vekst:problem:{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = list(errors)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def field_path(location: Sequence[int | str]) -> str:
    """("body", "variants", 1, "weight") -> "variants[1].weight"."""
    parts = list(location)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    path = ""
    for part in parts:
        if part == "[key]":  # pydantic's mark for an error in a mapping's key: the key names it
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            part = printable(str(part))
            path += f".{part}" if path else part
    return path or "body"


def error_field(error: dict[str, Any]) -> str:
    """The full path of the field one pydantic error is about, e.g. `variants[0].payload.a`."""
    if error.get("type") == "json_invalid":
        return "body"
    path = field_path(error.get("loc", ()))
    if error.get("type") == PATH_RULE_ERROR:
        inner = str((error.get("ctx") or {}).get("path", ""))
        path = f"{path}{inner}" if path != "body" or not inner else inner.lstrip(".")
    return path


def rule_of(error: dict[str, Any]) -> str:
    """A short rule sentence for one pydantic error, e.g. "must be > 0"."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    simple = {
        "missing": "is required",
        "extra_forbidden": "is not a known field",
        "json_invalid": "is not valid JSON",
        "finite_number": "must be a finite number",
    }
    if kind in simple:
        return simple[kind]
    if kind == PATH_RULE_ERROR:
        return str(ctx.get("rule", "cannot be stored"))
    bounds = {
        "greater_than": ("gt", ">"),
        "greater_than_equal": ("ge", ">="),
        "less_than": ("lt", "<"),
        "less_than_equal": ("le", "<="),
    }
    if kind in bounds:
        name, sign = bounds[kind]
        return f"must be {sign} {_number(ctx.get(name))}"
    if kind == "string_pattern_mismatch":
        if ctx.get("pattern") == SLUG_PATTERN:
            return SLUG_RULE
        return f"must match {ctx.get('pattern')}"
    if kind in ("too_short", "string_too_short"):
        return f"must have at least {ctx.get('min_length')} {_unit(kind)}"
    if kind in ("too_long", "string_too_long"):
        return f"must have at most {ctx.get('max_length')} {_unit(kind)}"
    if kind in ("enum", "literal_error"):
        return f"must be one of {ctx.get('expected')}"
    message = printable(str(error.get("msg", "is invalid")))
    message = message.removeprefix("Value error, ")
    return message[:1].lower() + message[1:]


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _unit(kind: str) -> str:
    return "characters" if kind.startswith("string") else "items"


def install_problem_handlers(app: FastAPI) -> None:
    """Map every error the API can meet to one problem document."""

    @app.exception_handler(VekstError)
    async def _domain_error(request: Request, exc: VekstError) -> Response:
        status, title = next(
            (value for cls, value in _STATUS_OF.items() if isinstance(exc, cls)),
            (400, "Bad request"),
        )
        errors = None
        if isinstance(exc, InvalidInputError | FieldConflictError):
            errors = [{"field": printable(exc.field), "rule": printable(exc.rule)}]
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        page = _error_page(request, status, title, printable(exc.detail))
        return page or problem(status, title, printable(exc.detail), errors, headers)

    @app.exception_handler(StatsInputError)
    async def _stats_input_error(_request: Request, exc: StatsInputError) -> JSONResponse:
        message = printable(exc.message)
        return problem(
            422, "Invalid input", message, [{"field": printable(exc.field), "rule": message}]
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": error_field(error), "rule": rule_of(error)} for error in exc.errors()]
        detail = "; ".join(f"{error['field']} {error['rule']}" for error in errors)
        return problem(422, "Invalid input", detail, errors)

    @app.exception_handler(IntegrityError)
    async def _integrity_error(_request: Request, _exc: IntegrityError) -> JSONResponse:
        return problem(409, "Conflict", "the change conflicts with data stored at the same time")

    @app.exception_handler(OperationalError)
    async def _database_unavailable(_request: Request, _exc: OperationalError) -> JSONResponse:
        # Writes commit before the answer, so a failed commit lands here: nothing was stored.
        return problem(
            503,
            "Service Unavailable",
            "the database could not complete the request, so nothing was changed; try again",
        )

    # Defence in depth: validation keeps values the database cannot hold out; should one slip
    # through, the caller still gets a 4xx naming the database's reason, not a 500.
    @app.exception_handler(DataError)
    @app.exception_handler(psycopg.DataError)
    async def _data_error(_request: Request, exc: Exception) -> JSONResponse:
        reason = printable(str(getattr(exc, "orig", exc)).splitlines()[0][:200])
        return problem(422, "Invalid input", f"a value cannot be stored: {reason}")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = printable(str(exc.detail))
        title = _title(exc.status_code)
        page = _error_page(request, exc.status_code, title, detail)
        return page or problem(exc.status_code, title, detail, None, exc.headers)


ErrorPage = Callable[[Request, int, str, str], Response]
"""Renders an error as an HTML page for people (`app.state.error_page`, set by the app)."""


def _error_page(request: Request, status: int, title: str, detail: str) -> Response | None:
    """An HTML page for a browser asking for a page (Accept: text/html, outside /v1); None
    for API clients, which keep problem+json."""
    render: ErrorPage | None = getattr(request.app.state, "error_page", None)
    if render is None or request.url.path.startswith("/v1/"):
        return None
    if "text/html" not in request.headers.get("accept", ""):
        return None
    return render(request, status, title, detail)


def _title(status: int) -> str:
    return HTTPStatus(status).phrase
