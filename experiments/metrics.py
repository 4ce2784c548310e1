"""Built-in metric definitions and experiment templates; the metric keys are part of the API."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

MetricKind = Literal["conversion", "mean", "ratio"]
ValueFormat = Literal["share", "money", "number"]
Direction = Literal["increase", "decrease"]


class Template(StrEnum):
    CHECKOUT = "checkout"
    CTA = "cta"
    NEWSLETTER = "newsletter"


Aggregation = Literal["any", "count", "sum"]


@dataclass(frozen=True, slots=True)
class MetricDefinition:
    """How a metric is computed from events, per exposed unit.

    Each side of a metric reduces one event name per unit: `any` (1 if the unit has at least one
    such event, else 0), `count` (number of events) or `sum` (sum of their values). A conversion
    or mean metric averages the numerator over exposed units; a ratio metric divides the
    numerator summed over units by the denominator summed over units. `numerator_unless` drops
    the numerator of units that also have that event (cart abandonment: added to cart and did
    not purchase).
    """

    key: str
    name: str
    kind: MetricKind
    direction: Direction
    numerator_event: str
    numerator_aggregation: Aggregation = "any"
    denominator_event: str | None = None
    denominator_aggregation: Aggregation = "any"
    numerator_unless: str | None = None
    window_hours: float | None = None
    cap: float | None = None

    @property
    def value_format(self) -> ValueFormat:
        """How its values read: a share of units (a rate, cart abandonment), money, or a number.

        A conversion metric, or a ratio whose both sides count units (`any`), is a share; a
        metric that sums event values (`purchase` amounts) is money.
        """
        if self.kind == "conversion":
            return "share"
        if self.kind == "ratio" and self.numerator_aggregation == self.denominator_aggregation:
            return "share" if self.numerator_aggregation == "any" else "number"
        return "money" if self.numerator_aggregation == "sum" else "number"


def _conversion(key: str, name: str, event: str, direction: Direction) -> MetricDefinition:
    return MetricDefinition(key, name, "conversion", direction, numerator_event=event)


def metric_events(metrics: Iterable[MetricDefinition]) -> set[str]:
    """Every event name the metrics read (numerators, denominators, unless-rules)."""
    names: set[str] = set()
    for metric in metrics:
        names.add(metric.numerator_event)
        names.update(n for n in (metric.denominator_event, metric.numerator_unless) if n)
    return names


def builtin_metrics() -> dict[str, MetricDefinition]:
    """The built-in metrics of PRODUCT.md, by key."""
    definitions = [
        _conversion("conversion_rate", "Purchase conversion", "purchase", "increase"),
        _conversion("add_to_cart_rate", "Add-to-cart rate", "add_to_cart", "increase"),
        _conversion("checkout_start_rate", "Checkout start rate", "checkout_started", "increase"),
        _conversion("cta_click_rate", "CTA click rate", "cta_click", "increase"),
        MetricDefinition(
            "cart_abandonment",
            "Cart abandonment",
            "ratio",
            "decrease",
            numerator_event="add_to_cart",
            numerator_unless="purchase",
            denominator_event="add_to_cart",
        ),
        MetricDefinition(
            "aov",
            "Average order value",
            "ratio",
            "increase",
            numerator_event="purchase",
            numerator_aggregation="sum",
            denominator_event="purchase",
            denominator_aggregation="count",
        ),
        MetricDefinition(
            "revenue_per_visitor",
            "Revenue per visitor",
            "mean",
            "increase",
            numerator_event="purchase",
            numerator_aggregation="sum",
        ),
        MetricDefinition(
            "revenue_per_recipient",
            "Revenue per recipient",
            "mean",
            "increase",
            numerator_event="purchase",
            numerator_aggregation="sum",
        ),
        _conversion("newsletter_open_rate", "Newsletter open rate", "newsletter_open", "increase"),
        _conversion(
            "newsletter_click_rate", "Newsletter click rate", "newsletter_click", "increase"
        ),
        _conversion("unsubscribe_rate", "Unsubscribe rate", "unsubscribe", "decrease"),
        _conversion("refund_rate", "Refund rate", "refund", "decrease"),
    ]
    return {definition.key: definition for definition in definitions}


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
