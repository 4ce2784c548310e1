"""The metric catalogue: built-in metrics plus the custom metrics stored in the database."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from experiments.audit import COMMAND_LINE, Actor, record_change
from experiments.errors import ConflictError, InvalidInputError, NotFoundError
from experiments.metrics import MetricDefinition, builtin_metrics
from experiments.models import AuditEntity, CustomMetric, MetricCreate, MetricPublic


def metric_catalog(session: Session) -> dict[str, MetricDefinition]:
    """Every metric an experiment may name, by key: built-in first, then custom ones."""
    catalog = builtin_metrics()
    for row in session.exec(select(CustomMetric).order_by(CustomMetric.id)):  # type: ignore[arg-type]
        catalog[row.key] = _definition(row)
    return catalog


def get_metric(session: Session, key: str) -> MetricDefinition:
    catalog = metric_catalog(session)
    if key not in catalog:
        raise NotFoundError(f"no metric with key '{key}'; GET /v1/metrics lists them")
    return catalog[key]


def create_metric(
    session: Session, data: MetricCreate, *, actor: Actor = COMMAND_LINE
) -> MetricPublic:
    """Store a custom metric; its key may clash neither with a built-in nor a stored metric.
    The creation is recorded in the audit log as made by `actor`."""
    _check_shape(data)
    if data.key in builtin_metrics():
        raise InvalidInputError("key", f"'{data.key}' is a built-in metric; choose another key")
    existing = session.exec(select(CustomMetric.id).where(CustomMetric.key == data.key)).first()
    if existing is not None:
        raise ConflictError(f"a metric with key '{data.key}' exists already; choose another key")
    row = CustomMetric(
        key=data.key,
        name=data.name,
        kind=data.kind,
        direction=data.direction,
        numerator_event=data.numerator_event,
        numerator_aggregation=data.numerator_aggregation,
        denominator_event=data.denominator_event,
        denominator_aggregation=data.denominator_aggregation,
        numerator_unless=data.numerator_unless,
        window_hours=data.window_hours,
        cap=data.cap,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    public = to_public(_definition(row), builtin=False)
    state = public.model_dump(mode="json", exclude={"builtin"})
    record_change(session, actor, AuditEntity.METRIC, row.key, "created", None, state)
    return public


def list_metrics(session: Session) -> list[MetricPublic]:
    """All metrics, built-in ones first (in the order of PRODUCT.md), then custom by creation."""
    builtin = builtin_metrics()
    return [
        to_public(definition, builtin=key in builtin)
        for key, definition in metric_catalog(session).items()
    ]


def to_public(definition: MetricDefinition, *, builtin: bool) -> MetricPublic:
    return MetricPublic(
        key=definition.key,
        name=definition.name,
        kind=definition.kind,
        direction=definition.direction,
        numerator_event=definition.numerator_event,
        numerator_aggregation=definition.numerator_aggregation,
        denominator_event=definition.denominator_event,
        denominator_aggregation=(
            definition.denominator_aggregation if definition.denominator_event else None
        ),
        numerator_unless=definition.numerator_unless,
        window_hours=definition.window_hours,
        cap=definition.cap,
        builtin=builtin,
    )


def _check_shape(data: MetricCreate) -> None:
    if data.kind == "conversion" and data.numerator_aggregation != "any":
        raise InvalidInputError(
            "numerator_aggregation",
            "must be 'any' for a conversion metric (a unit converts or not); "
            "use kind 'mean' to average a count or a sum",
        )
    if data.kind == "mean" and data.numerator_aggregation == "any":
        raise InvalidInputError(
            "numerator_aggregation",
            "must be 'count' or 'sum' for a mean metric; use kind 'conversion' for 'any'",
        )
    if data.kind == "ratio" and data.denominator_event is None:
        raise InvalidInputError("denominator_event", "is required for a ratio metric")
    if data.kind != "ratio" and data.denominator_event is not None:
        raise InvalidInputError(
            "denominator_event", f"is only allowed for a ratio metric, not for kind '{data.kind}'"
        )


def _definition(row: CustomMetric) -> MetricDefinition:
    return MetricDefinition(
        key=row.key,
        name=row.name,
        kind=row.kind,  # type: ignore[arg-type]  # checked on the way in
        direction=row.direction,  # type: ignore[arg-type]
        numerator_event=row.numerator_event,
        numerator_aggregation=row.numerator_aggregation,  # type: ignore[arg-type]
        denominator_event=row.denominator_event,
        denominator_aggregation=row.denominator_aggregation,  # type: ignore[arg-type]
        numerator_unless=row.numerator_unless,
        window_hours=row.window_hours,
        cap=row.cap,
    )
