"""Experiment results (admin key): the latest look, a new look on demand, and one metric's
timeseries over the stored looks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from api.deps import AdminKey, SessionDep, SettingsDep
from experiments.results.snapshots import (
    results_as_of,
    serve_results,
    stored_timeseries,
    take_snapshot,
)

router = APIRouter(prefix="/v1/experiments", tags=["results"])


@router.get("/{key}/results")
def get_results(
    key: str,
    session: SessionDep,
    settings: SettingsDep,
    _key: AdminKey,
    as_of: Annotated[
        datetime | None, Query(description="Count events up to this time (with a timezone).")
    ] = None,
    fresh: Annotated[
        bool, Query(description="Take a new look now instead of serving the latest one.")
    ] = False,
) -> dict[str, Any]:
    if as_of is not None:
        return results_as_of(session, key, as_of)
    max_age = timedelta(minutes=settings.snapshot_interval_minutes)
    return serve_results(session, key, max_age, fresh=fresh)


@router.post("/{key}/snapshots", status_code=status.HTTP_201_CREATED)
def create_snapshot(key: str, session: SessionDep, _key: AdminKey) -> dict[str, Any]:
    """Take a new look now (the first one backfills a look per day since the first exposure)."""
    return take_snapshot(session, key).results


@router.get("/{key}/results/timeseries")
def get_timeseries(
    key: str,
    session: SessionDep,
    _key: AdminKey,
    metric: Annotated[str, Query(description="One of the experiment's metric keys.")],
) -> dict[str, Any]:
    return stored_timeseries(session, key, metric)
