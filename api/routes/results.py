"""Experiment results (viewer key; a new look on demand, editor key): the latest look, a new
look on demand, and one metric's timeseries over the stored looks."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import AuthFirstRoute, EditorKey, SessionDep, SettingsDep, ViewerKey
from api.params import ExperimentKey, moment_query
from api.problems import PROTECTED, problem_responses
from experiments.inputs import SLUG_PATTERN, Moment
from experiments.models.experiment import MAX_DIMENSION_NAME_LENGTH
from experiments.results.page import ResultsPage
from experiments.results.segments import serve_breakdown
from experiments.results.snapshots import (
    results_as_of,
    serve_results,
    stored_page,
    stored_timeseries,
    take_snapshot,
)
from experiments.results.timeseries_page import Timeseries
from experiments.webhooks.store import queue_look_alerts

router = APIRouter(
    route_class=AuthFirstRoute,
    responses=problem_responses(*PROTECTED, 404, 409),
    prefix="/v1/experiments",
    tags=["results"],
)


@router.get("/{key}/results", response_model=ResultsPage, response_model_exclude_unset=True)
def get_results(
    key: ExperimentKey,
    session: SessionDep,
    settings: SettingsDep,
    _key: ViewerKey,
    as_of: Annotated[Moment | None, moment_query("Count events up to this time")] = None,
    fresh: Annotated[
        bool, Query(description="Take a new look now instead of serving the latest one.")
    ] = False,
    dimension: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_DIMENSION_NAME_LENGTH,
            description="Break the look down by this dimension of the experiment (`segments`: "
            "exploratory readings per level, not for the ship decision).",
        ),
    ] = None,
) -> ResultsPage:
    if dimension is not None:
        max_age = timedelta(minutes=settings.snapshot_interval_minutes)
        return serve_breakdown(
            session,
            key,
            dimension,
            max_age,
            as_of=as_of,
            fresh=fresh,
            on_new_look=queue_look_alerts,
        )
    if as_of is not None:
        return results_as_of(session, key, as_of)
    max_age = timedelta(minutes=settings.snapshot_interval_minutes)
    return serve_results(session, key, max_age, fresh=fresh, on_new_look=queue_look_alerts)


@router.post(
    "/{key}/snapshots",
    status_code=status.HTTP_201_CREATED,
    response_model=ResultsPage,
    response_model_exclude_unset=True,
)
def create_snapshot(
    key: ExperimentKey, session: SessionDep, settings: SettingsDep, _key: EditorKey
) -> ResultsPage:
    """Take a new look now (the first one backfills a look per day since the first exposure)."""
    every = settings.full_look_every
    look = take_snapshot(session, key, on_new_look=queue_look_alerts, full_look_every=every)
    return stored_page(look)


@router.get(
    "/{key}/results/timeseries", response_model=Timeseries, response_model_exclude_unset=True
)
def get_timeseries(
    key: ExperimentKey,
    session: SessionDep,
    _key: ViewerKey,
    metric: Annotated[
        str, Query(pattern=SLUG_PATTERN, description="One of the experiment's metric keys.")
    ],
) -> Timeseries:
    return stored_timeseries(session, key, metric, on_new_look=queue_look_alerts)
