"""The metric catalogue (list, create a custom metric) and the audit log, on the page.

A custom metric's form posts `MetricCreate`, the body of `POST /v1/metrics`, to
`metrics.create_metric`; the audit log is `audit_search.search_audit`, newest first, filtered by
kind, key, who and since when.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import RedirectResponse, Response

from api.deps import SessionDep
from api.pages.access import PageRoute, UserDep, render_page
from api.pages.workspace.forms import EditorForm, FieldErrors, Fields, attempt, validated
from experiments import metrics as catalog
from experiments.audit_search import AuditFilter, search_audit
from experiments.inputs import text_problem
from experiments.models.audit import AuditEntity
from experiments.models.metric import MetricCreate

router = APIRouter(include_in_schema=False, route_class=PageRoute)
METRIC_TEXT_FIELDS = (
    "key",
    "name",
    "kind",
    "direction",
    "numerator_event",
    "numerator_aggregation",
    "denominator_event",
    "denominator_aggregation",
    "numerator_unless",
    "window_hours",
    "cap",
    "counted_as",
    "denominator_noun",
    "pasted_field",
)
SOURCES = ("sdk", "server", "admin")
AUDIT_PAGE = 50  # entries a page shows; "Older entries" pages on


@router.get("/catalogue")
def metric_list(request: Request, session: SessionDep, user: UserDep) -> Response:
    return _metrics_page(request, session, user, Fields([]), FieldErrors())


@router.post("/catalogue")
def create_metric(
    request: Request, session: SessionDep, user: UserDep, posted: EditorForm
) -> Response:
    fields, errors = posted.fields, posted.errors
    body: dict[str, Any] = {
        name: fields.get(name).strip() for name in METRIC_TEXT_FIELDS if fields.get(name).strip()
    }
    if fields.all("sources"):
        body["sources"] = fields.all("sources")
    data = validated(MetricCreate, body, errors)
    if data is not None and not errors:
        made = attempt(
            session,
            errors,
            lambda: catalog.create_metric(session, data, actor=user.actor),
            conflict_field="key",
        )
        if made is not None:
            return RedirectResponse(f"/catalogue#metric-{made.key}", status.HTTP_303_SEE_OTHER)
    return _metrics_page(request, session, user, fields, errors, 422)


def _metrics_page(
    request: Request,
    session: SessionDep,
    user: UserDep,
    fields: Fields,
    errors: FieldErrors,
    code: int = 200,
) -> Response:
    context = {
        "user": user,
        "metrics": catalog.list_metrics(session),
        "fields": fields,
        "errors": errors,
        "sources": SOURCES,
    }
    return render_page(request, "workspace/metrics.html", context, code)


@router.get("/audit")
def audit_log(
    request: Request,
    session: SessionDep,
    user: UserDep,
    entity: Annotated[str, Query(max_length=20)] = "",
    entity_key: Annotated[str, Query(max_length=64)] = "",
    actor: Annotated[str, Query(max_length=200)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> Response:
    """The audit log, newest first. A filter that cannot be read is shown beside its field,
    and the log is then shown unfiltered by it."""
    errors = FieldErrors()
    wanted = AuditFilter(
        entity=_entity(entity, errors),
        entity_key=_text(entity_key.strip(), "entity_key", errors),
        actor=_text(actor.strip(), "actor", errors),
        since=_since(since, errors),
        before=before,
    )
    found = search_audit(session, wanted, AUDIT_PAGE)
    query = {"entity": entity, "entity_key": entity_key, "actor": actor, "since": since}
    context = {
        "user": user,
        "entries": found.entries,
        "next_before": found.next_before,
        "query": query,
        "entities": [kind.value for kind in AuditEntity],
        "errors": errors,
    }
    return render_page(request, "workspace/audit.html", context, 422 if errors else 200)


def _entity(text: str, errors: FieldErrors) -> AuditEntity | None:
    if not text:
        return None
    try:
        return AuditEntity(text)
    except ValueError:
        errors.add("entity", f"must be one of {', '.join(kind.value for kind in AuditEntity)}")
        return None


def _text(text: str, name: str, errors: FieldErrors) -> str:
    problem = text_problem(text)
    if problem is not None:
        errors.add(name, problem)
        return ""
    return text


def _since(text: str, errors: FieldErrors) -> datetime | None:
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        errors.add("since", "must be a date such as 2026-12-01")
        return None
    return datetime.combine(day, time(0), tzinfo=UTC)
