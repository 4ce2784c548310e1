"""Experiment definitions (admin key): create, list, read, edit, start, stop, archive."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, status

from api.deps import AdminKey, AuthFirstRoute, SessionDep, refresh_served_config
from api.problems import PROTECTED, problem_responses
from experiments import definitions, lifecycle
from experiments.models import (
    ExperimentCreate,
    ExperimentPage,
    ExperimentPublic,
    ExperimentStatus,
    ExperimentUpdate,
    StopRequest,
)
from experiments.models.experiment import SLUG_PATTERN
from experiments.targeting import validate_targeting

MAX_OFFSET = 10**9
# An experiment key in a path: a slug (anything else cannot name an experiment).
ExperimentKey = Annotated[str, Path(pattern=SLUG_PATTERN)]

router = APIRouter(
    route_class=AuthFirstRoute,
    responses=problem_responses(*PROTECTED, 404, 409),
    prefix="/v1/experiments",
    tags=["experiments"],
    dependencies=[Depends(refresh_served_config)],
)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_experiment(
    data: ExperimentCreate, session: SessionDep, _key: AdminKey
) -> ExperimentPublic:
    experiment = definitions.create_experiment(session, data, validate_targeting)
    return definitions.to_public(experiment)


@router.get("")
def list_experiments(
    session: SessionDep,
    _key: AdminKey,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    status: ExperimentStatus | None = None,
) -> ExperimentPage:
    return definitions.list_experiments(session, limit, offset, status)


@router.get("/{key}")
def get_experiment(key: ExperimentKey, session: SessionDep, _key: AdminKey) -> ExperimentPublic:
    return definitions.to_public(definitions.get_experiment(session, key))


@router.patch("/{key}")
def update_experiment(
    key: ExperimentKey, patch: ExperimentUpdate, session: SessionDep, _key: AdminKey
) -> ExperimentPublic:
    experiment = definitions.update_experiment(session, key, patch, validate_targeting)
    return definitions.to_public(experiment)


@router.post("/{key}/start")
def start_experiment(key: ExperimentKey, session: SessionDep, _key: AdminKey) -> ExperimentPublic:
    return definitions.to_public(lifecycle.start_experiment(session, key))


@router.post("/{key}/stop")
def stop_experiment(
    key: ExperimentKey,
    session: SessionDep,
    _key: AdminKey,
    body: Annotated[StopRequest | None, Body()] = None,
) -> ExperimentPublic:
    winner = body.winner if body is not None else None
    return definitions.to_public(lifecycle.stop_experiment(session, key, winner))


@router.post("/{key}/archive")
def archive_experiment(key: ExperimentKey, session: SessionDep, _key: AdminKey) -> ExperimentPublic:
    return definitions.to_public(lifecycle.archive_experiment(session, key))
