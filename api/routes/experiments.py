"""Experiment definitions (a viewer key reads, an editor key writes): create, list, read, edit,
start, stop, reshuffle (sticky experiments), archive, and the history of changes from the audit
log."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, status

from api.deps import AuthFirstRoute, EditorKey, ServedConfigRefresh, SessionDep, ViewerKey
from api.params import ExperimentKey
from api.problems import PROTECTED, problem_responses
from experiments import audit, definitions, lifecycle, operations
from experiments.models.audit import AuditEntryPublic
from experiments.models.experiment import (
    ExperimentCreate,
    ExperimentStatus,
    ExperimentUpdate,
    StopRequest,
)
from experiments.models.experiment_views import ExperimentPage, ExperimentPublic
from experiments.results import overview

MAX_OFFSET = 10**9

router = APIRouter(
    route_class=AuthFirstRoute,
    responses=problem_responses(*PROTECTED, 404, 409),
    prefix="/v1/experiments",
    tags=["experiments"],
    dependencies=[ServedConfigRefresh],
)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_experiment(
    data: ExperimentCreate, session: SessionDep, key: EditorKey
) -> ExperimentPublic:
    experiment = definitions.create_experiment(session, data, actor=key.actor)
    return definitions.to_public(experiment)


@router.get("")
def list_experiments(
    session: SessionDep,
    _key: ViewerKey,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    status: ExperimentStatus | None = None,
    include: Annotated[
        Literal["results"] | None,
        Query(description="`results` adds each experiment's verdict, units and days running."),
    ] = None,
) -> ExperimentPage:
    page = definitions.list_experiments(session, limit, offset, status)
    if include == "results":
        overview.with_results(session, page)
    return page


@router.get("/{key}")
def get_experiment(key: ExperimentKey, session: SessionDep, _key: ViewerKey) -> ExperimentPublic:
    return definitions.to_public(definitions.get_experiment(session, key))


@router.get("/{key}/history")
def get_history(key: ExperimentKey, session: SessionDep, _key: ViewerKey) -> list[AuditEntryPublic]:
    """Every recorded change of the experiment, and every reading of counts pasted to it
    (entity `counts`), oldest first."""
    definitions.get_experiment(session, key)  # 404 for an unknown key
    return audit.experiment_history(session, key)


@router.patch("/{key}")
def update_experiment(
    key: ExperimentKey, patch: ExperimentUpdate, session: SessionDep, admin: EditorKey
) -> ExperimentPublic:
    experiment = lifecycle.update_experiment(session, key, patch, actor=admin.actor)
    return definitions.to_public(experiment)


@router.post("/{key}/start")
def start_experiment(key: ExperimentKey, session: SessionDep, admin: EditorKey) -> ExperimentPublic:
    return definitions.to_public(lifecycle.start_experiment(session, key, actor=admin.actor))


@router.post("/{key}/stop")
def stop_experiment(
    key: ExperimentKey,
    session: SessionDep,
    admin: EditorKey,
    body: Annotated[StopRequest | None, Body()] = None,
) -> ExperimentPublic:
    winner = body.winner if body is not None else None
    stopped = operations.stop_and_take_final_look(session, key, winner, actor=admin.actor)
    return definitions.to_public(stopped)


@router.post("/{key}/reshuffle")
def reshuffle_experiment(
    key: ExperimentKey, session: SessionDep, admin: EditorKey
) -> ExperimentPublic:
    """Move a sticky experiment to its next `sticky_version`: every unit is assigned afresh
    (409 when the experiment is not sticky)."""
    return definitions.to_public(lifecycle.reshuffle_experiment(session, key, actor=admin.actor))


@router.post("/{key}/archive")
def archive_experiment(
    key: ExperimentKey, session: SessionDep, admin: EditorKey
) -> ExperimentPublic:
    return definitions.to_public(lifecycle.archive_experiment(session, key, actor=admin.actor))
