"""Who is on a page, and what they may do there: the seam every page module builds on.

A page route is declared on a router with `route_class=PageRoute` and asks for `UserDep`: a
request without a valid page session is sent to the login form, so no page checks for itself.
A route that changes something calls `user.require(role)` (403 below that role) and reads its
form through `checked_form`, which refuses a missing or stale CSRF token. `render_page` gives
every page the same templates and security headers.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

from fastapi import Depends, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from api.deps import SessionDep
from api.pages import views
from api.pages.sessions import COOKIE_NAME, PageSession, PageSessions
from experiments.audit import Actor
from experiments.errors import InvalidInputError, PermissionDeniedError
from experiments.models.user import UserRole
from experiments.results.words.glossary import explain

HERE = FilePath(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["readable_json"] = views.readable_json
templates.env.filters["with_terms"] = views.with_terms
templates.env.globals["explain"] = explain
MAX_FORM_BYTES = 4096
MAX_FORM_FIELDS = 10

Role = Literal["viewer", "editor", "admin"]
ROLE_ORDER: tuple[Role, ...] = ("viewer", "editor", "admin")
_ROLES: dict[UserRole, Role] = {
    UserRole.VIEWER: "viewer",
    UserRole.EDITOR: "editor",
    UserRole.ADMIN: "admin",
}


class LoggedIn:
    """A request's verified page session: who it is (`actor`, for the audit log), their role
    as it is now, and the forms' CSRF token."""

    def __init__(self, page_session: PageSession, actor: Actor, csrf: str, role: Role) -> None:
        self.page_session = page_session
        self.actor = actor
        self.csrf = csrf
        self.role = role

    def may(self, role: Role) -> bool:
        """Whether this user holds `role` or one above it (the templates hide what is not)."""
        return ROLE_ORDER.index(self.role) >= ROLE_ORDER.index(role)

    def require(self, role: Role) -> None:
        """A 403 unless this user holds `role` or one above it."""
        if not self.may(role):
            raise PermissionDeniedError(f"this needs the {role} role; you have {self.role}")


class NotLoggedInError(Exception):
    """The request has no valid page session (see `PageRoute`)."""


def sessions_of(request: Request) -> PageSessions:
    sessions: PageSessions = request.app.state.page_sessions
    return sessions


def logged_in(request: Request, session: SessionDep) -> LoggedIn:
    """Who holds the request's page session; `NotLoggedInError` without an active one."""
    sessions = sessions_of(request)
    page_session = sessions.read(session, request.cookies.get(COOKIE_NAME))
    if page_session is None:
        raise NotLoggedInError
    csrf = sessions.csrf_token(page_session)
    return LoggedIn(page_session, page_session.actor, csrf, _ROLES[page_session.role])


UserDep = Annotated[LoggedIn, Depends(logged_in)]


def to_login() -> RedirectResponse:
    response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


class PageRoute(APIRoute):
    """A page route: a request without a valid page session (`UserDep`) is sent to the login
    form, so no page checks for itself."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def login_first(request: Request) -> Response:
            try:
                return await handler(request)
            except NotLoggedInError:
                return to_login()

        return login_first


async def read_form(request: Request) -> dict[str, str]:
    """A small urlencoded form (at most MAX_FORM_BYTES, MAX_FORM_FIELDS fields, UTF-8): the
    first value of each field; anything else is a 422 naming `body`."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise InvalidInputError("body", f"a form must be at most {MAX_FORM_BYTES} bytes")
    try:
        text = body.decode("utf-8")
        fields = parse_qs(text, max_num_fields=MAX_FORM_FIELDS, errors="strict")
    except UnicodeDecodeError:
        raise InvalidInputError("body", "a form must be UTF-8 text") from None
    except ValueError:  # parse_qs: more fields than max_num_fields
        raise InvalidInputError("body", f"a form has at most {MAX_FORM_FIELDS} fields") from None
    return {name: values[0] for name, values in fields.items()}


async def checked_form(request: Request, user: LoggedIn) -> dict[str, str]:
    """The request's form (`read_form`), once its CSRF token is this session's."""
    form = await read_form(request)
    if not sessions_of(request).csrf_ok(user.page_session, form.get("csrf")):
        raise InvalidInputError("csrf", "the form is stale or not from this site; reload the page")
    return form


def render_page(
    request: Request, name: str, context: dict[str, Any], code: int = 200
) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, context, status_code=code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
