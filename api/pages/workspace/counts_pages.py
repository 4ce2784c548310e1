"""A newsletter's counts, typed into a cell per variant and count or pasted as the e-mail tool's
report (`pasted_report`), which fills the same cells for the person to check before saving.

The form posts to the function behind `POST /v1/experiments/{key}/counts`
(`operations.paste_counts_and_take_look`, its body `CountsCreate`), so the rules and their words
are the API's.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import RedirectResponse, Response

from api.deps import SessionDep
from api.pages.access import LoggedIn, PageRoute, UserDep, render_page
from api.pages.workspace.forms import EditorForm, FieldErrors, Fields, attempt, validated
from api.pages.workspace.pasted_report import COLUMNS, Variant, read_report
from api.params import ExperimentKey
from experiments import definitions, operations
from experiments.models.experiment import Experiment
from experiments.models.pasted_counts import CountsCreate

router = APIRouter(include_in_schema=False, route_class=PageRoute)
COUNT_FIELDS = tuple(COLUMNS)
REPORT_FIELD = "report"


@router.get("/experiments/{key}/counts")
def counts_form(
    request: Request, key: ExperimentKey, session: SessionDep, user: UserDep
) -> Response:
    user.require("editor")
    experiment = definitions.get_experiment(session, key)
    return _counts_page(request, user, experiment, Fields([]), FieldErrors())


@router.post("/experiments/{key}/counts")
def paste_counts(
    request: Request, key: ExperimentKey, session: SessionDep, user: UserDep, posted: EditorForm
) -> Response:
    """The counts, one row per variant, as `POST /v1/experiments/{key}/counts` takes them
    (empty cells left out); a look is taken on them at once. A pasted report (the "Read the
    report" button, or saving with a report and no cell typed) only fills the cells."""
    experiment = definitions.get_experiment(session, key)
    fields, errors = posted.fields, posted.errors
    if not errors and _reads_report(fields, experiment):
        fields = _filled_from_report(fields, experiment, errors)
        return _counts_page(request, user, experiment, fields, errors, 422 if errors else 200)
    body = _counts_body(experiment, fields)
    data = validated(CountsCreate, body, errors)
    if data is not None and not errors:
        pasted = attempt(
            session,
            errors,
            lambda: operations.paste_counts_and_take_look(session, key, data, actor=user.actor),
        )
        if pasted is not None:
            return RedirectResponse(f"/experiments/{key}", status.HTTP_303_SEE_OTHER)
    return _counts_page(request, user, experiment, fields, errors, 422)


def _cells(experiment: Experiment) -> list[str]:
    return [f"{name}_{index}" for index in range(len(experiment.variants)) for name in COUNT_FIELDS]


def _reads_report(fields: Fields, experiment: Experiment) -> bool:
    if fields.get("intent") == "read":
        return True
    typed = any(fields.get(cell).strip() for cell in _cells(experiment))
    return bool(fields.get(REPORT_FIELD).strip()) and not typed


def _filled_from_report(fields: Fields, experiment: Experiment, errors: FieldErrors) -> Fields:
    """The form with every cell replaced by the report's (a count it lacks left empty)."""
    variants = [Variant(str(row["key"]), str(row["name"])) for row in experiment.variants]
    read = read_report(fields.get(REPORT_FIELD), variants)
    for path, rule in read.errors.items():
        errors.add(path, rule)
    kept = [(name, fields.get(name)) for name in (REPORT_FIELD, "as_of")]
    return Fields(kept + sorted(read.cells.items()))


def _counts_body(experiment: Experiment, fields: Fields) -> dict[str, Any]:
    rows = []
    for index, variant_key in enumerate(experiment.variant_keys()):
        row: dict[str, Any] = {"key": variant_key}
        for name in COUNT_FIELDS:
            typed = fields.get(f"{name}_{index}").strip().replace(" ", "").replace(",", "")
            if typed:
                row[name] = typed
        rows.append(row)
    body: dict[str, Any] = {"variants": rows}
    as_of = fields.get("as_of").strip()
    if as_of:
        body["as_of"] = as_of
    return body


def _counts_page(
    request: Request,
    user: LoggedIn,
    experiment: Experiment,
    fields: Fields,
    errors: FieldErrors,
    code: int = 200,
) -> Response:
    context = {
        "user": user,
        "experiment": experiment,
        "fields": fields,
        "count_fields": COUNT_FIELDS,
        "report_columns": COLUMNS,
        "errors": errors,
    }
    return render_page(request, "workspace/counts.html", context, code)
