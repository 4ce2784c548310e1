"""The pages: login, the list of experiments, an experiment's results, and its actions.

Every page but the login needs a session (see `sessions`); without one the browser is sent to
the login form. Actions are POSTed forms with a CSRF token, each behind a confirmation page.
The pages are left out of the OpenAPI: they are HTML for people, not an API.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlmodel import Session

from api.auth import KeyVerifier
from api.deps import SessionDep, SettingsDep
from api.pages import views
from api.pages.sessions import COOKIE_NAME, SESSION_SECONDS, PageSession, PageSessions
from api.params import ExperimentKey
from experiments import definitions, lifecycle, operations
from experiments.audit import Actor
from experiments.errors import ConflictError, InvalidInputError
from experiments.events.activity import recent_activity
from experiments.models.api_key import KeyScope
from experiments.models.experiment import Experiment, ExperimentStatus
from experiments.results import overview
from experiments.results.page import ResultsPage
from experiments.results.snapshots import (
    look_history,
    serve_results,
    take_snapshot,
)
from experiments.results.words.glossary import GLOSSARY, explain
from experiments.results.words.headline import STOPPED, display_state, headline
from experiments.results.words.wording import verdict_words
from experiments.webhooks.store import queue_look_alerts

HERE = FilePath(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["readable_json"] = views.readable_json
templates.env.filters["with_terms"] = views.with_terms
templates.env.globals["explain"] = explain
MAX_FORM_BYTES = 4096
MAX_FORM_FIELDS = 10
LIST_LIMIT = 100
Action = Annotated[Literal["start", "stop"], Path()]


class _LoggedIn:
    """A request's verified page session and who it is."""

    def __init__(self, page_session: PageSession, actor: Actor, csrf: str) -> None:
        self.page_session = page_session
        self.actor = actor
        self.csrf = csrf


class _NotLoggedInError(Exception):
    """The request has no valid page session (see `_PageRoute`)."""


def sessions_of(request: Request) -> PageSessions:
    sessions: PageSessions = request.app.state.page_sessions
    return sessions


def _logged_in(request: Request, session: SessionDep) -> _LoggedIn:
    """Who holds the request's page session; `_NotLoggedInError` without an active one."""
    sessions = sessions_of(request)
    page_session = sessions.read(session, request.cookies.get(COOKIE_NAME))
    if page_session is None:
        raise _NotLoggedInError
    return _LoggedIn(page_session, page_session.actor, sessions.csrf_token(page_session))


UserDep = Annotated[_LoggedIn, Depends(_logged_in)]


def _experiment_of(key: ExperimentKey, session: SessionDep, _user: UserDep) -> Experiment:
    """The page's experiment; the login check comes first, so a stranger never sees a 404."""
    return definitions.get_experiment(session, key)


ExperimentDep = Annotated[Experiment, Depends(_experiment_of)]


def _to_login() -> RedirectResponse:
    response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


class _PageRoute(APIRoute):
    """A page route: a request without a valid page session (`UserDep`) is sent to the login
    form, so no page checks for itself."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def login_first(request: Request) -> Response:
            try:
                return await handler(request)
            except _NotLoggedInError:
                return _to_login()

        return login_first


router = APIRouter(include_in_schema=False, route_class=_PageRoute)


async def _form(request: Request) -> dict[str, str]:
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


def _page(request: Request, name: str, context: dict[str, Any], code: int = 200) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, context, status_code=code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def error_page(request: Request, code: int, title: str, detail: str) -> Response:
    """An error as a page for people, with a way back (`app.state.error_page`)."""
    context = {"user": None, "code": code, "title": title, "detail": detail}
    return _page(request, "error.html", context, code)


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    return _page(request, "login.html", {"error": None, "user": None})


@router.post("/login")
async def login(request: Request, session: SessionDep) -> Response:
    key = (await _form(request)).get("key", "").strip()
    verifier: KeyVerifier = request.app.state.key_verifier
    identity = await run_in_threadpool(verifier.identity, key) if 0 < len(key) <= 200 else None
    if identity is None or identity.scope != KeyScope.ADMIN:
        error = "That is not an active admin key. Use a key with scope admin."
        return _page(request, "login.html", {"error": error, "user": None}, 401)
    sessions = sessions_of(request)
    cookie = await run_in_threadpool(sessions.open, session, key, identity.actor)
    response = RedirectResponse("/", status_code=status.HTTP_303_SEE_OTHER)
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
    return _to_login()


@router.get("/")
def experiment_list(
    request: Request,
    session: SessionDep,
    user: UserDep,
    status_filter: Annotated[ExperimentStatus | None, Query(alias="status")] = None,
) -> Response:
    page = definitions.list_experiments(session, LIST_LIMIT, 0, status_filter)
    looks = overview.with_results(session, page)
    rows = []
    for item in page.items:
        latest = looks.get(item.key)
        rows.append(
            {
                "item": item,
                "primary": item.metrics.primary,
                "headline": item.results.headline if item.results else "No verdict yet",
                "verdict": verdict_words(item.results.verdict if item.results else None),
                "stopped": item.results is not None and item.results.display_state in STOPPED,
                "units": item.results.units if item.results else 0,
                "last_look": None if latest is None else latest.computed_at,
            }
        )
    context = {
        "user": user,
        "rows": rows,
        "total": page.total,
        "status": status_filter.value if status_filter else "",
        "statuses": [s.value for s in ExperimentStatus],
    }
    return _page(request, "list.html", context)


@router.get("/experiments/{key}")
def experiment_page(
    request: Request,
    experiment: ExperimentDep,
    session: SessionDep,
    settings: SettingsDep,
    user: UserDep,
) -> Response:
    context: dict[str, Any] = {
        "user": user,
        "experiment": experiment,
        "page": None,
        "design": views.design_facts(experiment, None),
        "deciding": views.deciding_facts(session, experiment),
        "glossary": GLOSSARY,
    }
    if experiment.status != ExperimentStatus.DRAFT and experiment.started_at is not None:
        interval = timedelta(minutes=settings.snapshot_interval_minutes)
        page = serve_results(session, experiment.key, interval, on_new_look=queue_look_alerts)
        final = experiment.stopped_at is not None
        context["freshness"] = views.freshness(page, datetime.now(UTC), interval, final)
        context["activity"] = recent_activity(session, experiment)
        history = look_history(session, experiment.key)
        verdict = page.decision.verdict.value
        context |= {
            "page": page,
            "verdict": verdict,
            "state": display_state(page).value,
            "headline": headline(page),
            "verdict_words": verdict_words(verdict, page.decision.variant),
            "banners": views.banners(page),
            "tables": views.metric_tables(page, history),
            "design": views.design_facts(experiment, page),
        }
    return _page(request, "experiment.html", context)


def _running_page(session: Session, experiment: Experiment, minutes: float) -> ResultsPage | None:
    """The latest look of a running experiment (None for any other)."""
    if experiment.status != ExperimentStatus.RUNNING or experiment.started_at is None:
        return None
    return serve_results(
        session, experiment.key, timedelta(minutes=minutes), on_new_look=queue_look_alerts
    )


@router.post("/experiments/{key}/looks")
async def take_look(
    request: Request, experiment: ExperimentDep, session: SessionDep, user: UserDep
) -> Response:
    """Take a new look now (the page's "Take a new look" form)."""
    form = await _form(request)
    if not sessions_of(request).csrf_ok(user.page_session, form.get("csrf")):
        raise InvalidInputError("csrf", "the form is stale or not from this site; reload the page")
    if experiment.status != ExperimentStatus.RUNNING:
        raise ConflictError(
            f"experiment '{experiment.key}' is {experiment.status}: only a running experiment "
            "takes new looks"
        )
    await run_in_threadpool(take_snapshot, session, experiment.key, on_new_look=queue_look_alerts)
    return RedirectResponse(f"/experiments/{experiment.key}", status.HTTP_303_SEE_OTHER)


@router.get("/experiments/{key}/{action}")
def confirm_action(
    request: Request,
    experiment: ExperimentDep,
    action: Action,
    session: SessionDep,
    settings: SettingsDep,
    user: UserDep,
) -> Response:
    page = None
    if action == "stop":
        page = _running_page(session, experiment, settings.snapshot_interval_minutes)
    return _page(request, "confirm.html", _confirm_context(experiment, action, user, page))


def _confirm_context(
    experiment: Experiment,
    action: str,
    user: _LoggedIn,
    page: ResultsPage | None,
    chosen: str | None = None,
    caution: str | None = None,
) -> dict[str, Any]:
    """The confirmation page: for a stop, the verdict restated and the winner it names chosen."""
    return {
        "user": user,
        "experiment": experiment,
        "action": action,
        "page": page,
        "headline": None if page is None else headline(page),
        "chosen": views.stop_choice(page) if chosen is None else chosen,
        "caution": caution,
    }


@router.post("/experiments/{key}/{action}")
async def do_action(
    request: Request,
    key: ExperimentKey,
    action: Action,
    session: SessionDep,
    settings: SettingsDep,
    user: UserDep,
) -> Response:
    form = await _form(request)
    if not sessions_of(request).csrf_ok(user.page_session, form.get("csrf")):
        raise InvalidInputError("csrf", "the form is stale or not from this site; reload the page")
    if form.get("confirm") != "yes":
        raise InvalidInputError("confirm", "confirm the action on its confirmation page")
    winner = form.get("winner") or None
    if action == "stop":
        experiment = definitions.get_experiment(session, key)
        page = _running_page(session, experiment, settings.snapshot_interval_minutes)
        caution = views.stop_caution(page, winner)
        reason = form.get("reason", "").strip()
        if caution is not None and (form.get("unproven") != "yes" or len(reason) < 3):
            # A second confirmation: the chosen winner is not shown better; say so, ask why.
            context = _confirm_context(experiment, action, user, page, winner or "", caution)
            return _page(request, "confirm.html", context, status.HTTP_409_CONFLICT)
        # The reason goes on the stop's audit entry (`stop_reason`), not to the server log.
        stop_reason = reason if caution is not None else None
    else:
        stop_reason = None
    await run_in_threadpool(_act, session, key, action, winner, user.actor, stop_reason)
    return RedirectResponse(f"/experiments/{key}", status_code=status.HTTP_303_SEE_OTHER)


def _act(
    session: Session,
    key: str,
    action: str,
    winner: str | None,
    actor: Actor,
    stop_reason: str | None = None,
) -> None:
    if action == "start":
        lifecycle.start_experiment(session, key, actor=actor)
        return
    operations.stop_and_take_final_look(session, key, winner, actor=actor, reason=stop_reason)
