"""The users pages: who may use the pages (everyone logged in reads it), and for admins the
forms to invite, change a role, disable or enable, and reset a password; `/account` is where
anyone changes their own password.

Each form is a POST with a CSRF token (`checked_form`), behind `user.require("admin")` except
the own password. A rule broken (`email must be an e-mail address ...`, a taken e-mail, a
common password) is shown beside its field with status 422 or 409, never as a 5xx.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from api.deps import SessionDep
from api.pages.access import LoggedIn, PageRoute, UserDep, checked_form, render_page
from experiments import invitations, users
from experiments.errors import ConflictError, InvalidInputError, VekstError
from experiments.inputs import printable
from experiments.models.user import User, UserRole

router = APIRouter(include_in_schema=False, route_class=PageRoute)
UserId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ROLES = [role.value for role in UserRole]


def _users_page(
    request: Request,
    session: Session,
    user: LoggedIn,
    code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    issued: invitations.IssuedInvitation | None = None,
) -> Response:
    context: dict[str, Any] = {
        "user": user,
        "people": [users.to_public(person) for person in users.list_users(session)],
        "pending": invitations.pending(session) if user.may("admin") else [],
        "roles": ROLES,
        "errors": errors or {},
        "values": {name: printable(value) for name, value in (values or {}).items()},
        "issued": issued,
        "link": None if issued is None else f"{request.base_url}invitations/{issued.token}",
    }
    return render_page(request, "users/list.html", context, code)


def _refused(exc: VekstError) -> tuple[int, str, str]:
    """A refused form's status, field and rule (a taken e-mail is the `email` field's)."""
    if isinstance(exc, InvalidInputError):
        return status.HTTP_422_UNPROCESSABLE_CONTENT, exc.field, exc.rule
    return status.HTTP_409_CONFLICT, "email", exc.detail


@router.get("/users")
def users_page(request: Request, session: SessionDep, user: UserDep) -> Response:
    return _users_page(request, session, user)


@router.post("/users/invitations")
async def invite(request: Request, session: SessionDep, user: UserDep) -> Response:
    """Make an invitation link and show it once."""
    user.require("admin")
    form: dict[str, str] = {}
    try:
        form = await checked_form(request, user)
        role = users.parse_role(form.get("role", ""))
        issued = invitations.invite(session, form.get("email", ""), role, user.actor)
    except (InvalidInputError, ConflictError) as exc:
        code, field, rule = _refused(exc)
        return _users_page(request, session, user, code, {field: rule}, form)
    return _users_page(request, session, user, status.HTTP_201_CREATED, issued=issued)


@router.post("/users/{user_id}/role")
async def change_role(
    request: Request, user_id: UserId, session: SessionDep, user: UserDep
) -> Response:
    async def act(form: dict[str, str]) -> None:
        role = users.parse_role(form.get("role", ""))
        users.change_role(session, user_id, role, user.actor)

    return await _admin_action(request, session, user, user_id, act)


@router.post("/users/{user_id}/disable")
async def disable(
    request: Request, user_id: UserId, session: SessionDep, user: UserDep
) -> Response:
    async def act(_form: dict[str, str]) -> None:
        users.disable_user(session, user_id, user.actor)

    return await _admin_action(request, session, user, user_id, act)


@router.post("/users/{user_id}/enable")
async def enable(request: Request, user_id: UserId, session: SessionDep, user: UserDep) -> Response:
    async def act(_form: dict[str, str]) -> None:
        users.enable_user(session, user_id, user.actor)

    return await _admin_action(request, session, user, user_id, act)


@router.post("/users/{user_id}/password")
async def reset_password(
    request: Request, user_id: UserId, session: SessionDep, user: UserDep
) -> Response:
    """An admin sets a new password for someone (to pass on); their sessions end."""

    async def act(form: dict[str, str]) -> None:
        password = form.get("password", "")
        await run_in_threadpool(users.reset_password, session, user_id, password, user.actor)

    return await _admin_action(request, session, user, user_id, act)


async def _admin_action(
    request: Request,
    session: Session,
    user: LoggedIn,
    user_id: int,
    act: Callable[[dict[str, str]], Any],
) -> Response:
    """An admin's form about one user: its error goes beside that user's row."""
    user.require("admin")
    users.get_user(session, user_id)  # a 404 for an unknown id, before the form is read
    try:
        await act(await checked_form(request, user))
    except (InvalidInputError, ConflictError) as exc:
        code = _refused(exc)[0]
        return _users_page(request, session, user, code, {f"user-{user_id}": exc.detail})
    return RedirectResponse("/users", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/account")
def account_page(request: Request, session: SessionDep, user: UserDep) -> Response:
    return _account_page(request, session, user)


@router.post("/account/password")
async def change_own_password(request: Request, session: SessionDep, user: UserDep) -> Response:
    """Change one's own password: the other sessions end, this one stays."""
    me = users.get_user(session, user.page_session.user_id)
    try:
        form = await checked_form(request, user)
        new = form.get("new_password", "")
        if new != form.get("new_password_again", ""):
            raise InvalidInputError("new_password_again", "must repeat the new password")
        current = form.get("current_password", "")
        keep = user.page_session.session_id
        await run_in_threadpool(users.change_own_password, session, me, current, new, keep)
    except InvalidInputError as exc:
        errors = {exc.field: exc.rule}
        return _account_page(request, session, user, 422, errors)
    return _account_page(request, session, user, changed=True)


def _account_page(
    request: Request,
    session: Session,
    user: LoggedIn,
    code: int = 200,
    errors: dict[str, str] | None = None,
    changed: bool = False,
) -> Response:
    me: User = users.get_user(session, user.page_session.user_id)
    context = {"user": user, "me": users.to_public(me), "errors": errors or {}, "changed": changed}
    return render_page(request, "users/account.html", context, code)
