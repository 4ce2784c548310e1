"""The audit log (viewer key): every change to experiments, metrics and keys. Read-only: the API
has no route that edits or deletes an entry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import AuthFirstRoute, SessionDep, ViewerKey
from api.params import moment_query
from api.problems import PROTECTED, problem_responses
from experiments import audit
from experiments.inputs import Moment, require_timezone
from experiments.models.audit import AuditPage

router = APIRouter(
    route_class=AuthFirstRoute,
    responses=problem_responses(*PROTECTED),
    prefix="/v1/audit",
    tags=["audit"],
)


@router.get("")
def list_audit(
    session: SessionDep,
    _key: ViewerKey,
    since: Annotated[Moment | None, moment_query("Only changes at or after this time")] = None,
    after: Annotated[
        int | None,
        Query(
            ge=0,
            le=2**63 - 1,
            description="Only entries with a larger id: the `next_after` of the previous page.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    """Entries oldest first, in a stable order (by id)."""
    require_timezone("since", since)
    return audit.audit_page(session, since, after, limit)
