"""New experiment (from a template) and edit: the form, its live plan, and the save.

The save posts the form's API body to `definitions.create_experiment` or
`lifecycle.update_experiment`, the functions behind `POST /v1/experiments` and
`PATCH /v1/experiments/{key}`, so the rules and their words are the API's. A refused form comes
back (422, or 409 for a state the experiment refuses) with everything as typed. Buttons other
than the save ("Add a variant", "Update the plan") re-render the form without saving, so the
page works without JavaScript.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from sqlmodel import Session

from api.deps import ServedConfigRefresh, SessionDep
from api.pages.access import LoggedIn, PageRoute, UserDep, render_page
from api.pages.workspace import experiment_form as forms
from api.pages.workspace.experiment_form import ConditionRow, ExperimentForm, VariantRow
from api.pages.workspace.forms import FORM_FIELD, EditorForm, FieldErrors, attempt, validated
from api.pages.workspace.plan_view import TRAFFIC_NOTE, plan_view
from api.pages.workspace.traffic import MeasuredBaselines, MeasuredTraffic
from api.params import ExperimentKey
from experiments import definitions, lifecycle
from experiments.metrics import metric_catalog
from experiments.models.experiment import (
    Experiment,
    ExperimentCreate,
    ExperimentStatus,
    ExperimentUpdate,
)
from experiments.models.metric import MetricPublic
from experiments.recent_baseline import RecentBaseline
from experiments.templates import Template

router = APIRouter(include_in_schema=False, route_class=PageRoute)
# A change is served at once: the next assignment reloads the config (`ServedConfigRefresh`).
CHANGES = [ServedConfigRefresh]

TEMPLATE_CHOICES = {
    "cta": "A button's text or image (CTA click rate)",
    "checkout": "The checkout (purchase conversion)",
    "newsletter": "A newsletter's subject line (clicks, sent to a share of the list)",
    forms.BLANK: "choose every metric yourself",
}
NO_STORE = {"Cache-Control": "no-store"}
# Why a started experiment shows a field but refuses it: `lifecycle.FROZEN_AFTER_START`'s
# reasons, keyed by the fields of the form they freeze.
FORM_FROZEN = {
    "variants": "variants",
    "unit_type": "unit_type",
    "layer": "layer",
    "design": "design",
    "primary": "metrics.primary",
    "guardrails": "metrics.guardrails",
    "margins": "metrics.guardrail_margins",
    "caps": "metrics.cap_percentiles",
}


@router.get("/experiments/new")
def new_experiment(
    request: Request,
    session: SessionDep,
    user: UserDep,
    template: Annotated[str, Query(max_length=20)] = "cta",
) -> Response:
    user.require("editor")
    chosen = template if template in TEMPLATE_CHOICES else forms.BLANK
    return _form_page(request, session, user, forms.from_template(chosen), FieldErrors(), None)


@router.post("/experiments/new", dependencies=CHANGES)
def create_experiment(
    request: Request, session: SessionDep, user: UserDep, posted: EditorForm
) -> Response:
    fields, errors = posted.fields, posted.errors
    form = forms.from_fields(fields)
    intent = fields.get("intent", "save")
    if intent != "save" or errors:
        return _rework(request, session, user, form, errors, None, intent)
    body = forms.create_body(form, errors)
    data = validated(ExperimentCreate, body, errors)
    if data is not None and not errors:
        made = attempt(
            session,
            errors,
            lambda: definitions.create_experiment(session, data, actor=user.actor),
            conflict_field="key",
        )
        if made is not None:
            return RedirectResponse(f"/experiments/{made.key}", status.HTTP_303_SEE_OTHER)
    return _form_page(request, session, user, form.padded(), errors, None, 422)


@router.get("/experiments/{key}/edit")
def edit_experiment(
    request: Request, key: ExperimentKey, session: SessionDep, user: UserDep
) -> Response:
    user.require("editor")
    experiment = definitions.get_experiment(session, key)
    form = forms.from_experiment(experiment)
    return _form_page(request, session, user, form, FieldErrors(), experiment)


@router.post("/experiments/{key}/edit", dependencies=CHANGES)
def update_experiment(
    request: Request, key: ExperimentKey, session: SessionDep, user: UserDep, posted: EditorForm
) -> Response:
    experiment = definitions.get_experiment(session, key)
    fields, errors = posted.fields, posted.errors
    form = _keep_frozen(forms.from_fields(fields), experiment)
    intent = fields.get("intent", "save")
    if intent != "save" or errors:
        return _rework(request, session, user, form, errors, experiment, intent)
    body = forms.update_body(form, errors, experiment)
    patch = validated(ExperimentUpdate, body, errors)
    if patch is not None and not errors:
        changed = attempt(
            session,
            errors,
            lambda: lifecycle.update_experiment(session, key, patch, actor=user.actor),
        )
        if changed is not None:
            return RedirectResponse(f"/experiments/{key}", status.HTTP_303_SEE_OTHER)
    code = 409 if errors.of(FORM_FIELD) and len(errors.rules) == 1 else 422
    return _form_page(request, session, user, form.padded(), errors, experiment, code)


@router.get("/plan")
def plan_text(
    request: Request,
    session: SessionDep,
    user: UserDep,
    primary: Annotated[str, Query(max_length=64)] = "",
    variants: Annotated[int, Query(ge=2, le=forms.MAX_VARIANT_ROWS)] = 2,
    traffic: Annotated[str, Query(max_length=40)] = "1",
    visitors_per_day: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """The live plan's sentence for the design in the query (the form's design fields), as
    text: what `/static/plan.js` puts in the form while it is being filled."""
    del user  # a session is all it needs: it reads, and says only what the planner says
    design = {
        name: request.query_params[name][:40]
        for name in forms.DESIGN_FIELDS
        if request.query_params.get(name)
    }
    traffic_kept: MeasuredTraffic = request.app.state.measured_traffic
    chosen = metric_catalog(session).get(primary)
    plan = plan_view(
        design,
        chosen,
        variants,
        traffic,
        traffic_kept.visitors_per_day(),
        visitors_per_day,
        *_recent(request, chosen),
    )
    return PlainTextResponse(plan.sentence or plan.missing or "", headers=NO_STORE)


def _recent(request: Request, primary: MetricPublic | None) -> tuple[RecentBaseline | None, bool]:
    """The primary metric's kept recent baseline, and whether it was looked up (a metric)."""
    if primary is None:
        return None, False
    baselines: MeasuredBaselines = request.app.state.measured_baselines
    return baselines.of(primary), True


def _keep_frozen(form: ExperimentForm, experiment: Experiment) -> ExperimentForm:
    """A started experiment's frozen fields are shown disabled (so never posted): the page
    shows the stored ones again."""
    if experiment.status == ExperimentStatus.DRAFT:
        return form
    stored = forms.from_experiment(experiment)
    form.key = experiment.key
    for name in ("variants", "unit_type", "layer", "primary", "guardrails", "margins", "caps"):
        setattr(form, name, getattr(stored, name))
    form.design = stored.design
    return form


def _rework(
    request: Request,
    session: Session,
    user: LoggedIn,
    form: ExperimentForm,
    errors: FieldErrors,
    experiment: Experiment | None,
    intent: str,
) -> Response:
    """The form again, unsaved: with one more row, a fresh plan, or the errors found."""
    if intent == "add_variant" and len(form.variants) < forms.MAX_VARIANT_ROWS:
        form.variants.append(VariantRow())
    if intent == "add_condition" and len(form.conditions) < forms.MAX_CONDITION_ROWS:
        form.conditions.append(ConditionRow())
    code = 422 if errors else 200
    return _form_page(request, session, user, form.padded(), errors, experiment, code)


def _form_page(
    request: Request,
    session: Session,
    user: LoggedIn,
    form: ExperimentForm,
    errors: FieldErrors,
    experiment: Experiment | None,
    code: int = 200,
) -> Response:
    catalog = metric_catalog(session)
    traffic: MeasuredTraffic = request.app.state.measured_traffic
    measured = traffic.visitors_per_day()
    filled = [row for row in form.variants if not row.empty()]
    chosen = catalog.get(form.primary)
    plan = plan_view(
        forms.design_of(form),
        chosen,
        len(filled),
        form.traffic,
        measured,
        form.visitors_per_day,
        *_recent(request, chosen),
    )
    started = experiment is not None and experiment.status != ExperimentStatus.DRAFT
    frozen: dict[str, str] = {}
    if started:
        frozen = {name: lifecycle.FROZEN_AFTER_START[rule] for name, rule in FORM_FROZEN.items()}
    context: dict[str, Any] = {
        "user": user,
        "form": form,
        "errors": errors,
        "experiment": experiment,
        "metrics": list(catalog.values()),
        "templates": TEMPLATE_CHOICES,
        "template_names": [t.value for t in Template],
        "operators": forms.OPERATORS,
        "plan": plan,
        "traffic_note": TRAFFIC_NOTE,
        "frozen": frozen,
        "archived": experiment is not None and experiment.status == ExperimentStatus.ARCHIVED,
        "action": f"/experiments/{experiment.key}/edit" if experiment else "/experiments/new",
    }
    page = render_page(request, "workspace/experiment_form.html", context, code)
    # The one page with a script: `/static/plan.js` (this server's only) updates the plan.
    policy = page.headers["Content-Security-Policy"]
    page.headers["Content-Security-Policy"] = f"{policy}; script-src 'self'; connect-src 'self'"
    return page
