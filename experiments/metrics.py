"""The metric catalogue: the built-in metrics (their keys are part of the API) and the custom
metrics stored in the database. The models a metric is described by are in
`experiments.models.metric`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
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


def _conversion(
    key: str, name: str, event: str, direction: Direction, **facts: str
) -> dict[str, Any]:
    """A built-in conversion metric; `facts` are the words and pasted field it comes with."""
    return {
        "key": key,
        "name": name,
        "kind": "conversion",
        "direction": direction,
        "numerator_event": event,
        **facts,
    }


_BUILTIN: tuple[dict[str, Any], ...] = (
    _conversion(
        "conversion_rate", "Purchase conversion", "purchase", "increase", counted_as="purchases"
    ),
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
        "denominator_noun": "cart",
    },
    {
        "key": "aov",
        "name": "Average order value",
        "kind": "ratio",
        "numerator_event": "purchase",
        "numerator_aggregation": "sum",
        "denominator_event": "purchase",
        "denominator_noun": "order",
    },
    {
        "key": "median_order_value",
        "name": "Median order value",
        "kind": "quantile",
        "quantile": 0.5,
        "numerator_event": "purchase",
    },
    {
        "key": "revenue_per_visitor",
        "name": "Revenue per visitor",
        "kind": "mean",
        "numerator_event": "purchase",
        "numerator_aggregation": "sum",
        "pasted_field": "revenue",
    },
    {
        "key": "revenue_per_recipient",
        "name": "Revenue per recipient",
        "kind": "mean",
        "numerator_event": "purchase",
        "numerator_aggregation": "sum",
        "pasted_field": "revenue",
    },
    _conversion(
        "newsletter_open_rate",
        "Newsletter open rate",
        "newsletter_open",
        "increase",
        counted_as="opens",
        pasted_field="opened",
    ),
    _conversion(
        "newsletter_click_rate",
        "Newsletter click rate",
        "newsletter_click",
        "increase",
        counted_as="clicks",
        pasted_field="clicked",
    ),
    _conversion(
        "unsubscribe_rate",
        "Unsubscribe rate",
        "unsubscribe",
        "decrease",
        counted_as="unsubscribes",
        pasted_field="unsubscribed",
    ),
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


def denominator_nouns(metric: MetricDefinition) -> tuple[str, str]:
    """(singular, plural) of what a ratio metric's denominator counts: its own noun, else the
    noun of a built-in metric over the same denominator event ("order" for `purchase`), else
    "<event> event" for a count and "<event> unit" otherwise."""
    event = metric.denominator_event or ""
    noun = metric.denominator_noun or _builtin_denominator_nouns().get(event)
    if noun is None:
        noun = f"{event} event" if metric.denominator_aggregation == "count" else f"{event} unit"
    return noun, f"{noun}s"


@cache
def _builtin_denominator_nouns() -> dict[str, str]:
    return {
        metric.denominator_event: metric.denominator_noun
        for metric in builtin_metrics().values()
        if metric.denominator_event is not None and metric.denominator_noun is not None
    }


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
    _check_quantile(data)
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
    if data.denominator_noun is not None and data.denominator_event is None:
        raise InvalidInputError(
            "denominator_noun", "names what the denominator counts; give denominator_event too"
        )
    _check_pasted_field(data)


def _check_pasted_field(data: MetricCreate) -> None:
    """Pasted totals give a conversion over `sent` (opened, clicked, unsubscribed) or a sum per
    recipient (revenue), nothing else."""
    field = data.pasted_field
    if field is None:
        return
    if field == "revenue" and (data.kind != "mean" or data.numerator_aggregation != "sum"):
        raise InvalidInputError(
            "pasted_field",
            "'revenue' is a sum per recipient: only for a mean metric with aggregation 'sum'",
        )
    if field != "revenue" and data.kind != "conversion":
        raise InvalidInputError(
            "pasted_field",
            f"'{field}' counts recipients: only for a conversion metric, not kind '{data.kind}'",
        )


def _check_quantile(data: MetricCreate) -> None:
    """A quantile metric reads each numerator event's value as it is: it has its level, and no
    aggregation, exclusion or cap of a unit's values."""
    if data.kind != "quantile":
        if data.quantile is not None:
            raise InvalidInputError(
                "quantile", f"is only allowed for a quantile metric, not for kind '{data.kind}'"
            )
        return
    if data.quantile is None:
        raise InvalidInputError(
            "quantile", "is required for a quantile metric: a level between 0 and 1 (0.5: median)"
        )
    unused = {
        "numerator_aggregation": data.numerator_aggregation != "any",
        "numerator_unless": data.numerator_unless is not None,
        "cap": data.cap is not None,
    }
    for field, given in unused.items():
        if given:
            raise InvalidInputError(
                field,
                "is not used by a quantile metric (it reads each event's value); leave it out",
            )
