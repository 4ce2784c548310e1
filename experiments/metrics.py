"""The metric catalogue: the built-in metrics (their keys are part of the API) and the custom
metrics stored in the database. The models a metric is described by are in
`experiments.models.metric`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from experiments.audit import COMMAND_LINE, Actor, record_change
from experiments.errors import ConflictError, InvalidInputError
from experiments.models.audit import AuditEntity
from experiments.models.metric import (
    CustomMetric,
    Direction,
    MetricCreate,
    MetricDefinition,
    MetricPublic,
)


def _conversion(key: str, name: str, event: str, direction: Direction) -> dict[str, Any]:
    return {
        "key": key,
        "name": name,
        "kind": "conversion",
        "direction": direction,
        "numerator_event": event,
    }


_BUILTIN: tuple[dict[str, Any], ...] = (
    _conversion("conversion_rate", "Purchase conversion", "purchase", "increase"),
    _conversion("add_to_cart_rate", "Add-to-cart rate", "add_to_cart", "increase"),
    _conversion("checkout_start_rate", "Checkout start rate", "checkout_started", "increase"),
    _conversion("cta_click_rate", "CTA click rate", "cta_click", "increase"),
    {
        "key": "cart_abandonment",
        "name": "Cart abandonment",
        "kind": "ratio",
        "direction": "decrease",
        "numerator_event": "add_to_cart",
        "numerator_unless": "purchase",
        "denominator_event": "add_to_cart",
        "denominator_aggregation": "any",
    },
    {
        "key": "aov",
        "name": "Average order value",
        "kind": "ratio",
        "numerator_event": "purchase",
        "numerator_aggregation": "sum",
        "denominator_event": "purchase",
    },
    {
        "key": "revenue_per_visitor",
        "name": "Revenue per visitor",
        "kind": "mean",
        "numerator_event": "purchase",
        "numerator_aggregation": "sum",
    },
    {
        "key": "revenue_per_recipient",
        "name": "Revenue per recipient",
        "kind": "mean",
        "numerator_event": "purchase",
        "numerator_aggregation": "sum",
    },
    _conversion("newsletter_open_rate", "Newsletter open rate", "newsletter_open", "increase"),
    _conversion("newsletter_click_rate", "Newsletter click rate", "newsletter_click", "increase"),
    _conversion("unsubscribe_rate", "Unsubscribe rate", "unsubscribe", "decrease"),
    _conversion("refund_rate", "Refund rate", "refund", "decrease"),
)


def builtin_metrics() -> dict[str, MetricPublic]:
    """The built-in metrics of PRODUCT.md, by key."""
    metrics = (MetricPublic.model_validate({**fields, "builtin": True}) for fields in _BUILTIN)
    return {metric.key: metric for metric in metrics}


def metric_events(metrics: Iterable[MetricDefinition]) -> set[str]:
    """Every event name the metrics read (numerators, denominators, unless-rules)."""
    names: set[str] = set()
    for metric in metrics:
        names.add(metric.numerator_event)
        names.update(n for n in (metric.denominator_event, metric.numerator_unless) if n)
    return names


def metric_catalog(session: Session) -> dict[str, MetricPublic]:
    """Every metric an experiment may name, by key: built-in first, then custom ones."""
    catalog = builtin_metrics()
    for row in session.exec(select(CustomMetric).order_by(CustomMetric.id)):  # type: ignore[arg-type]
        catalog[row.key] = _public(row)
    return catalog


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
    row = CustomMetric.model_validate(data, update={"created_at": datetime.now(UTC)})
    session.add(row)
    session.flush()
    public = _public(row)
    state = public.model_dump(mode="json", exclude={"builtin"})
    record_change(session, actor, AuditEntity.METRIC, row.key, "created", None, state)
    return public


def list_metrics(session: Session) -> list[MetricPublic]:
    """All metrics, built-in ones first (in the order of PRODUCT.md), then custom by creation."""
    return list(metric_catalog(session).values())


def _public(row: CustomMetric) -> MetricPublic:
    """A stored metric as the catalogue gives it (checked on the way in, validated again here)."""
    return MetricPublic.model_validate(row)


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
