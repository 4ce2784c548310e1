"""An experiment's life after its definition: ramp its traffic up, archive it, and read its
history (a newsletter's counts: `counts_pages`). Start and stop are the results pages' own
confirmations (`api.pages.routes`).

Each form posts to the function behind the API's route: `lifecycle.update_experiment` (a PATCH
of `traffic`), `lifecycle.archive_experiment`, so the rules and their words are the API's.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import RedirectResponse, Response

from api.deps import ServedConfigRefresh, SessionDep
from api.pages.access import LoggedIn, PageRoute, UserDep, render_page
from api.pages.workspace.forms import EditorForm, FieldErrors, attempt, validated
from api.params import ExperimentKey
from experiments import audit, definitions, lifecycle
from experiments.models.experiment import Experiment, ExperimentUpdate

router = APIRouter(include_in_schema=False, route_class=PageRoute)
# A change is served at once: the next assignment reloads the config (`ServedConfigRefresh`).
CHANGES = [ServedConfigRefresh]


def _back(key: str) -> RedirectResponse:
    return RedirectResponse(f"/experiments/{key}", status.HTTP_303_SEE_OTHER)


@router.get("/experiments/{key}/ramp")
def ramp_form(request: Request, key: ExperimentKey, session: SessionDep, user: UserDep) -> Response:
    user.require("editor")
    experiment = definitions.get_experiment(session, key)
    return _ramp_page(request, user, experiment, f"{min(experiment.traffic * 2, 1):g}")


@router.post("/experiments/{key}/ramp", dependencies=CHANGES)
def ramp(
    request: Request, key: ExperimentKey, session: SessionDep, user: UserDep, posted: EditorForm
) -> Response:
    """Raise the traffic (a PATCH of `traffic`): lowering it, or ramping a stopped experiment,
    is the API's 409, shown beside the field."""
    fields, errors = posted.fields, posted.errors
    typed = fields.get("traffic").strip()
    patch = validated(ExperimentUpdate, {"traffic": typed or None}, errors)
    if patch is not None and patch.traffic is None:
        errors.add("traffic", "is required")
    if patch is not None and not errors:
        changed = attempt(
            session,
            errors,
            lambda: lifecycle.update_experiment(session, key, patch, actor=user.actor),
            conflict_field="traffic",
        )
        if changed is not None:
            return _back(key)
    experiment = definitions.get_experiment(session, key)
    return _ramp_page(request, user, experiment, typed, errors, 422)


def _ramp_page(
    request: Request,
    user: LoggedIn,
    experiment: Experiment,
    proposed: str,
    errors: FieldErrors | None = None,
    code: int = 200,
) -> Response:
    context = {
        "user": user,
        "experiment": experiment,
        "proposed": proposed,
        "errors": errors or FieldErrors(),
    }
    return render_page(request, "workspace/ramp.html", context, code)


@router.get("/experiments/{key}/archive")
def archive_form(
    request: Request, key: ExperimentKey, session: SessionDep, user: UserDep
) -> Response:
    user.require("editor")
    experiment = definitions.get_experiment(session, key)
    context = {"user": user, "experiment": experiment, "errors": FieldErrors()}
    return render_page(request, "workspace/archive.html", context)


@router.post("/experiments/{key}/archive", dependencies=CHANGES)
def archive(
    request: Request, key: ExperimentKey, session: SessionDep, user: UserDep, posted: EditorForm
) -> Response:
    fields, errors = posted.fields, posted.errors
    if fields.get("confirm") != "yes" and not errors:
        errors.add("confirm", "confirm the action on its confirmation page")
    if not errors:
        done = attempt(
            session, errors, lambda: lifecycle.archive_experiment(session, key, actor=user.actor)
        )
        if done is not None:
            return _back(key)
    experiment = definitions.get_experiment(session, key)
    context = {"user": user, "experiment": experiment, "errors": errors}
    return render_page(request, "workspace/archive.html", context, 409)


@router.get("/experiments/{key}/history")
def history(request: Request, key: ExperimentKey, session: SessionDep, user: UserDep) -> Response:
    """Every recorded change of the experiment and every reading of counts pasted to it,
    newest first (`GET /v1/experiments/{key}/history`, read backwards)."""
    experiment = definitions.get_experiment(session, key)
    entries = list(reversed(audit.experiment_history(session, key)))
    context = {"user": user, "experiment": experiment, "entries": entries}
    return render_page(request, "workspace/history.html", context)
