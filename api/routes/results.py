"""Experiment results (admin key): the full results page and one metric's daily timeseries."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import AdminKey, AuthFirstRoute, SessionDep
from api.params import ExperimentKey
from api.problems import PROTECTED, problem_responses
from api.responses import ResultsOut, TimeseriesOut
from experiments.inputs import Moment
from experiments.models.experiment import SLUG_PATTERN
from experiments.results.compute import compute_results, compute_timeseries

router = APIRouter(
    route_class=AuthFirstRoute,
    responses=problem_responses(*PROTECTED, 404),
    prefix="/v1/experiments",
    tags=["results"],
)


@router.get("/{key}/results", response_model=ResultsOut, response_model_exclude_unset=True)
def get_results(
    key: ExperimentKey,
    session: SessionDep,
    _key: AdminKey,
    as_of: Annotated[
        Moment | None,
        Query(description="Count events up to this time (with a timezone; years 1900-9000)."),
    ] = None,
) -> dict[str, Any]:
    return compute_results(session, key, as_of).to_dict()


@router.get(
    "/{key}/results/timeseries", response_model=TimeseriesOut, response_model_exclude_unset=True
)
def get_timeseries(
    key: ExperimentKey,
    session: SessionDep,
    _key: AdminKey,
    metric: Annotated[
        str, Query(pattern=SLUG_PATTERN, description="One of the experiment's metric keys.")
    ],
) -> dict[str, Any]:
    return compute_timeseries(session, key, metric).to_dict()
