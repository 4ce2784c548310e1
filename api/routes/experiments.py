"""Experiment definitions (admin key): create, list, read, edit, start, stop, archive."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, status

from api.deps import AdminKey, SessionDep, refresh_served_config
from experiments import definitions, lifecycle
from experiments.models import (
    ExperimentCreate,
    ExperimentPage,
    ExperimentPublic,
    ExperimentStatus,
    ExperimentUpdate,
    StopRequest,
)
from experiments.results.snapshots import take_snapshot
from experiments.targeting import validate_targeting

router = APIRouter(
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
    offset: Annotated[int, Query(ge=0)] = 0,
    status: ExperimentStatus | None = None,
) -> ExperimentPage:
    return definitions.list_experiments(session, limit, offset, status)


@router.get("/{key}")
def get_experiment(key: str, session: SessionDep, _key: AdminKey) -> ExperimentPublic:
    return definitions.to_public(definitions.get_experiment(session, key))


@router.patch("/{key}")
def update_experiment(
    key: str, patch: ExperimentUpdate, session: SessionDep, _key: AdminKey
) -> ExperimentPublic:
    experiment = definitions.update_experiment(session, key, patch, validate_targeting)
    return definitions.to_public(experiment)


@router.post("/{key}/start")
def start_experiment(key: str, session: SessionDep, _key: AdminKey) -> ExperimentPublic:
    return definitions.to_public(lifecycle.start_experiment(session, key))


@router.post("/{key}/stop")
def stop_experiment(
    key: str,
    session: SessionDep,
    _key: AdminKey,
    body: Annotated[StopRequest | None, Body()] = None,
) -> ExperimentPublic:
    winner = body.winner if body is not None else None
    stopped = lifecycle.stop_experiment(session, key, winner)
    take_snapshot(session, key)  # the final look, counting everything up to the stop
    return definitions.to_public(stopped)


@router.post("/{key}/archive")
def archive_experiment(key: str, session: SessionDep, _key: AdminKey) -> ExperimentPublic:
    return definitions.to_public(lifecycle.archive_experiment(session, key))
