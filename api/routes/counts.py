"""Counts pasted from an e-mail tool (editor key): attach one reading to a newsletter experiment."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import AuthFirstRoute, EditorKey, SessionDep
from api.params import ExperimentKey
from api.problems import PROTECTED, problem_responses
from experiments.models.pasted_counts import CountsCreate, CountsPublic
from experiments.operations import paste_counts_and_take_look

router = APIRouter(
    route_class=AuthFirstRoute,
    responses=problem_responses(*PROTECTED, 404, 409),
    prefix="/v1/experiments",
    tags=["results"],
)


@router.post("/{key}/counts", status_code=status.HTTP_201_CREATED)
def post_counts(
    key: ExperimentKey, data: CountsCreate, session: SessionDep, admin: EditorKey
) -> CountsPublic:
    """Attach per-variant counts (sent, opened, clicked, unsubscribed, revenue) read at `as_of`;
    the experiment's results then come from the newest reading (a new look is taken now). The
    audit log records who pasted which figures (entity `counts`)."""
    return paste_counts_and_take_look(session, key, data, actor=admin.actor)
