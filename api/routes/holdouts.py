"""Holdouts (a viewer key reads, an editor key writes): create, list, read, stop, the history
of changes from the audit log, and the results from stored looks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from api.deps import (
    AuthFirstRoute,
    EditorKey,
    ServedConfigRefresh,
    SessionDep,
    SettingsDep,
    ViewerKey,
)
from api.pages.workspace.traffic import kept_traffic
from api.params import ExperimentKey
from api.problems import PROTECTED, problem_responses
from experiments import audit, holdouts, operations
from experiments.models.audit import AuditEntity, AuditEntryPublic
from experiments.models.holdout import HoldoutCreate, HoldoutPage, HoldoutPublic
from experiments.results.holdout_looks import serve_holdout_results
from experiments.results.holdout_page import HoldoutResultsPage

router = APIRouter(
    route_class=AuthFirstRoute,
    responses=problem_responses(*PROTECTED, 404, 409),
    prefix="/v1/holdouts",
    tags=["holdouts"],
    dependencies=[ServedConfigRefresh],
)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_holdout(data: HoldoutCreate, session: SessionDep, key: EditorKey) -> HoldoutPublic:
    """Create and start a holdout; `power` says what its share can detect by `ends_at`."""
    return operations.create_holdout_with_power(session, data, actor=key.actor)


@router.get("")
def list_holdouts(session: SessionDep, _key: ViewerKey) -> HoldoutPage:
    now = datetime.now(UTC)
    items = [holdouts.to_public(session, h, now) for h in holdouts.list_holdouts(session)]
    return HoldoutPage(items=items, total=len(items))


@router.get("/{key}")
def get_holdout(key: ExperimentKey, session: SessionDep, _key: ViewerKey) -> HoldoutPublic:
    holdout = holdouts.get_holdout(session, key)
    return holdouts.to_public(session, holdout, datetime.now(UTC))


@router.get("/{key}/history")
def get_history(key: ExperimentKey, session: SessionDep, _key: ViewerKey) -> list[AuditEntryPublic]:
    """Every recorded change of the holdout, oldest first."""
    holdouts.get_holdout(session, key)  # 404 for an unknown key
    return audit.entity_history(session, AuditEntity.HOLDOUT, key)


@router.post("/{key}/stop")
def stop_holdout(key: ExperimentKey, session: SessionDep, editor: EditorKey) -> HoldoutPublic:
    """Stop a running holdout: its units return to normal assignment."""
    now = datetime.now(UTC)
    holdout = holdouts.stop_holdout(session, key, actor=editor.actor, now=now)
    return holdouts.to_public(session, holdout, now)


@router.get("/{key}/results", response_model=HoldoutResultsPage, response_model_exclude_unset=True)
def get_results(
    request: Request,
    key: ExperimentKey,
    session: SessionDep,
    settings: SettingsDep,
    _key: ViewerKey,
    fresh: Annotated[
        bool, Query(description="Take a new look now instead of serving the latest one.")
    ] = False,
) -> HoldoutResultsPage:
    """The measurement group against the holdout, cumulative since it began, from its latest
    look (a new one when that is older than the snapshot interval, or with `fresh`)."""
    max_age = timedelta(minutes=settings.snapshot_interval_minutes)
    state = request.app.state
    return serve_holdout_results(
        session, key, max_age, fresh=fresh, traffic=lambda h: kept_traffic(state, session, h)
    )
