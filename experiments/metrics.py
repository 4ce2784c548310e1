"""Built-in metrics and experiment templates; the metric keys are part of the API.

The models a metric is described by live in `experiments.models.metric`; the catalogue of
built-in and custom metrics in `experiments.metric_catalog`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from experiments.models.metric import Direction, MetricDefinition, MetricPublic


class Template(StrEnum):
    CHECKOUT = "checkout"
    CTA = "cta"
    NEWSLETTER = "newsletter"


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


@dataclass(frozen=True, slots=True)
class TemplateDefaults:
    unit_type: str
    primary: str
    secondary: tuple[str, ...]
    guardrails: tuple[str, ...]


TEMPLATES: dict[Template, TemplateDefaults] = {
    Template.CHECKOUT: TemplateDefaults(
        "visitor",
        "conversion_rate",
        ("aov", "revenue_per_visitor", "checkout_start_rate"),
        ("cart_abandonment", "refund_rate"),
    ),
    Template.CTA: TemplateDefaults(
        "visitor",
        "cta_click_rate",
        ("add_to_cart_rate", "conversion_rate"),
        ("revenue_per_visitor",),
    ),
    Template.NEWSLETTER: TemplateDefaults(
        "subscriber",
        "newsletter_click_rate",
        ("newsletter_open_rate", "revenue_per_recipient"),
        ("unsubscribe_rate",),
    ),
}
