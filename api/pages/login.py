"""Logging in and out of the pages, and accepting an invitation.

People log in with their e-mail and password (`experiments.users`); API keys are for machines
and open no page session. Failed logins are counted per account and per client address
(`experiments.login_throttle`, the client as `api.client_address` names it); while either must
wait, the form answers 429 with `Retry-After` before any password is checked. A successful
login ends the browser's earlier session and opens one with a new id (`PageSessions.open`).

The login and invitation forms come before any session, so their CSRF token is a random value
in a cookie of their own (`vekst_form`, HttpOnly, SameSite=Strict) that the form must repeat:
another site can neither read it nor make the browser send it, so a forged login (into the
forger's account) is refused.
"""

from __future__ import annotations

import math
import re
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api.client_address import ClientAddresses
from api.deps import SessionDep
from api.pages.access import PageRoute, read_form, render_page, sessions_of, to_login
from api.pages.sessions import COOKIE_NAME, SESSION_SECONDS, same_text
from experiments import invitations, login_throttle, passwords, users
from experiments.errors import ConflictError, InvalidInputError, NotFoundError
from experiments.inputs import printable, text_problem
from experiments.models.user import User

router = APIRouter(include_in_schema=False, route_class=PageRoute)
FORM_COOKIE = "vekst_form"
FORM_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
STALE = "the form is stale or not from this site; send it again"
InvitationToken = Annotated[str, Path(max_length=invitations.MAX_TOKEN_LENGTH)]
WRONG = "That e-mail and password do not match an active account."


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    return _form_page(request, "login.html", _login_context())


@router.post("/login")
async def login(request: Request, session: SessionDep) -> Response:
    form = await read_form(request)
    typed = form.get("email", "")
    if not _form_token_ok(request, form):
        context = _login_context(printable(typed), errors={"csrf": STALE})
        return _form_page(request, "login.html", context, 422)
    await run_in_threadpool(sessions_of(request).ready)
    try:
        email = users.normalise_email(typed)
    except InvalidInputError as exc:
        context = _login_context(email=printable(typed), errors={"email": exc.rule})
        return _form_page(request, "login.html", context, 422)
    client = _clients(request).of(request.scope)
    subjects = login_throttle.subjects(email, client)
    wait = await run_in_threadpool(login_throttle.seconds_to_wait, session, subjects)
    if wait > 0:
        seconds = math.ceil(wait)
        error = f"Too many failed logins. Try again in {seconds} seconds."
        response = _form_page(request, "login.html", _login_context(email, error=error), 429)
        response.headers["Retry-After"] = str(seconds)
        return response
    password = form.get("password", "")
    user = await run_in_threadpool(_check_password, session, email, password, subjects)
    if user is None or user.id is None:
        return _form_page(request, "login.html", _login_context(email, error=WRONG), 401)
    return await _logged_in_as(request, session, user.id)


def _check_password(
    session: Session, email: str, password: str, subjects: list[str]
) -> User | None:
    """The account, or None after counting the failure (a password past the longest allowed
    is a failure too, checked against nothing)."""
    fits = 0 < len(password) <= passwords.MAX_LENGTH and text_problem(password) is None
    user = users.authenticate(session, email, password) if fits else None
    if user is None:
        login_throttle.record_failure(session, subjects)
    else:
        login_throttle.clear(session, subjects[0])
    return user


async def _logged_in_as(request: Request, session: Session, user_id: int) -> Response:
    sessions = sessions_of(request)
    earlier = request.cookies.get(COOKIE_NAME)
    cookie = await run_in_threadpool(sessions.open, session, user_id, earlier)
    response = RedirectResponse("/", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(FORM_COOKIE, path="/")
    response.set_cookie(
        COOKIE_NAME,
        cookie,
        max_age=SESSION_SECONDS,
        path="/",
        httponly=True,
        samesite="strict",
        secure=sessions.cookie_secure(request.url.scheme),
    )
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    # Logging out needs no CSRF check: a forged logout can only end a session.
    sessions_of(request).end(session, request.cookies.get(COOKIE_NAME))
    return to_login()


@router.get("/invitations/{token}")
def invitation_form(request: Request, token: InvitationToken, session: SessionDep) -> Response:
    invitation = invitations.open_invitation(session, token)
    context = _invitation_context(invitation.email, token)
    return _form_page(request, "invitation.html", context)


@router.post("/invitations/{token}")
async def accept_invitation(
    request: Request, token: InvitationToken, session: SessionDep
) -> Response:
    """Make the account with the chosen password and log its owner in."""
    await run_in_threadpool(sessions_of(request).ready)
    invitation = invitations.open_invitation(session, token)
    form = await read_form(request)
    password = form.get("password", "")
    try:
        if not _form_token_ok(request, form):
            raise InvalidInputError("csrf", STALE)
        if password != form.get("password_again", ""):
            raise InvalidInputError("password_again", "must repeat the password")
        user = await run_in_threadpool(invitations.accept, session, token, password)
    except InvalidInputError as exc:
        context = _invitation_context(invitation.email, token, {exc.field: exc.rule})
        return _form_page(request, "invitation.html", context, 422)
    except ConflictError as exc:  # the address got an account meanwhile
        context = _invitation_context(invitation.email, token, {"email": exc.detail})
        return _form_page(request, "invitation.html", context, 409)
    if user.id is None:
        raise NotFoundError("the new account was not stored")
    return await _logged_in_as(request, session, user.id)


def _form_page(
    request: Request, name: str, context: dict[str, Any], code: int = 200
) -> HTMLResponse:
    """A form page with its token, kept in the `vekst_form` cookie (the browser's own, or new)."""
    token = request.cookies.get(FORM_COOKIE, "")
    if not FORM_TOKEN.fullmatch(token):
        token = secrets.token_urlsafe(24)
    response = render_page(request, name, {**context, "csrf": token}, code)
    response.set_cookie(
        FORM_COOKIE,
        token,
        path="/",
        httponly=True,
        samesite="strict",
        secure=sessions_of(request).cookie_secure(request.url.scheme),
    )
    return response


def _form_token_ok(request: Request, form: dict[str, str]) -> bool:
    token = request.cookies.get(FORM_COOKIE, "")
    sent = form.get("csrf", "")
    return bool(FORM_TOKEN.fullmatch(token)) and same_text(sent, token)


def _clients(request: Request) -> ClientAddresses:
    clients: ClientAddresses | None = getattr(request.app.state, "client_addresses", None)
    if clients is None:
        clients = ClientAddresses.for_settings(request.app.state.settings)
        request.app.state.client_addresses = clients
    return clients


def _login_context(
    email: str = "", error: str | None = None, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    return {"user": None, "email": email, "error": error, "errors": errors or {}}


def _invitation_context(
    email: str, token: str, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    return {"user": None, "email": email, "token": token, "errors": errors or {}}
