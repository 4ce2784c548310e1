"""Metric catalogue: list built-in and custom metrics (viewer key), define custom ones (editor
key)."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import AuthFirstRoute, EditorKey, SessionDep, ViewerKey
from api.problems import PROTECTED, problem_responses
from experiments import metrics as catalog
from experiments.models.metric import MetricCreate, MetricPublic

router = APIRouter(
    route_class=AuthFirstRoute,
    responses=problem_responses(*PROTECTED, 409),
    prefix="/v1/metrics",
    tags=["metrics"],
)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_metric(data: MetricCreate, session: SessionDep, key: EditorKey) -> MetricPublic:
    """A custom metric; a built-in metric's key is a 422, a stored metric's key a 409."""
    return catalog.create_metric(session, data, actor=key.actor)


@router.get("")
def list_metrics(session: SessionDep, _key: ViewerKey) -> list[MetricPublic]:
    """Every metric an experiment may use: the built-in ones first, then custom ones by creation."""
    return catalog.list_metrics(session)
