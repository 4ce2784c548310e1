"""The pages: the list of experiments, an experiment's results, and its actions.

Every page needs a session (see `access`, `sessions` and `login`); without one the browser is
sent to the login form. Actions are POSTed forms with a CSRF token, each behind a
confirmation page.
The pages are left out of the OpenAPI: they are HTML for people, not an API.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from api.deps import SessionDep, SettingsDep
from api.pages import views
from api.pages.access import (
    LoggedIn,
    PageRoute,
    UserDep,
    checked_form,
    render_page,
)
from api.pages.previews import preview_links
from api.params import ExperimentKey
from experiments import definitions, lifecycle, operations
from experiments.audit import Actor
from experiments.errors import ConflictError, InvalidInputError
from experiments.events.activity import recent_activity
from experiments.models.experiment import (
    MAX_DIMENSION_NAME_LENGTH,
    Experiment,
    ExperimentStatus,
)
from experiments.results import overview
from experiments.results.page import ResultsPage
from experiments.results.segments import serve_breakdown
from experiments.results.snapshots import (
    look_history,
    serve_results,
    take_snapshot,
)
from experiments.results.words.glossary import GLOSSARY
from experiments.results.words.headline import STOPPED, display_state, headline
from experiments.results.words.wording import verdict_words
from experiments.webhooks.store import queue_look_alerts

LIST_LIMIT = 100
Action = Annotated[Literal["start", "stop"], Path()]


def _experiment_of(key: ExperimentKey, session: SessionDep, _user: UserDep) -> Experiment:
    """The page's experiment; the login check comes first, so a stranger never sees a 404."""
    return definitions.get_experiment(session, key)


ExperimentDep = Annotated[Experiment, Depends(_experiment_of)]


router = APIRouter(include_in_schema=False, route_class=PageRoute)


def error_page(request: Request, code: int, title: str, detail: str) -> Response:
    """An error as a page for people, with a way back (`app.state.error_page`)."""
    context = {"user": None, "code": code, "title": title, "detail": detail}
    return render_page(request, "error.html", context, code)


@router.get("/")
def experiment_list(
    request: Request,
    session: SessionDep,
    user: UserDep,
    status_filter: Annotated[ExperimentStatus | None, Query(alias="status")] = None,
) -> Response:
    page = definitions.list_for_overview(session, LIST_LIMIT, status_filter)
    looks = overview.with_results(session, page)
    rows = []
    for item in page.items:
        latest = looks.get(item.key)
        rows.append(
            {
                "item": item,
                "primary": item.primary,
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
    return render_page(request, "list.html", context)


@router.get("/experiments/{key}")
def experiment_page(
    request: Request,
    experiment: ExperimentDep,
    session: SessionDep,
    settings: SettingsDep,
    user: UserDep,
    dimension: Annotated[str | None, Query(max_length=MAX_DIMENSION_NAME_LENGTH)] = None,
) -> Response:
    context: dict[str, Any] = {
        "user": user,
        "experiment": experiment,
        "page": None,
        "design": views.design_facts(experiment, None),
        "deciding": views.deciding_facts(session, experiment),
        "glossary": GLOSSARY,
        "previews": preview_links(experiment, request.app.state.preview_tokens, datetime.now(UTC)),
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
            "segments": _segments(session, experiment, interval, dimension),
        }
    return render_page(request, "experiment.html", context)


def _segments(
    session: Session, experiment: Experiment, interval: timedelta, asked: str | None
) -> views.SegmentsView | None:
    """The Segments section: the look broken down by the dimension asked for (`?dimension=`),
    else by the experiment's first; None without dimensions."""
    if not experiment.dimensions:
        return None
    chosen = asked if asked in experiment.dimensions else experiment.dimensions[0]
    page = serve_breakdown(session, experiment.key, chosen, interval, on_new_look=queue_look_alerts)
    unknown = asked if asked is not None and asked != chosen else None
    return views.segments_view(page, unknown)


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
    user.require("editor")
    await checked_form(request, user)
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
    user.require("editor")  # a viewer gets no form to start or stop
    page = None
    if action == "stop":
        page = _running_page(session, experiment, settings.snapshot_interval_minutes)
    return render_page(request, "confirm.html", _confirm_context(experiment, action, user, page))


def _confirm_context(
    experiment: Experiment,
    action: str,
    user: LoggedIn,
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
    user.require("editor")
    form = await checked_form(request, user)
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
            return render_page(request, "confirm.html", context, status.HTTP_409_CONFLICT)
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
