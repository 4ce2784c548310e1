"""Experiment results (admin key): the full results page and one metric's daily timeseries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import AdminKey, SessionDep
from experiments.results.compute import compute_results, compute_timeseries

router = APIRouter(prefix="/v1/experiments", tags=["results"])


@router.get("/{key}/results")
def get_results(
    key: str,
    session: SessionDep,
    _key: AdminKey,
    as_of: Annotated[
        datetime | None, Query(description="Count events up to this time (with a timezone).")
    ] = None,
) -> dict[str, Any]:
    return compute_results(session, key, as_of).to_dict()


@router.get("/{key}/results/timeseries")
def get_timeseries(
    key: str,
    session: SessionDep,
    _key: AdminKey,
    metric: Annotated[str, Query(description="One of the experiment's metric keys.")],
) -> dict[str, Any]:
    return compute_timeseries(session, key, metric).to_dict()
