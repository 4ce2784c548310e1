"""Experiment templates: the unit type, metrics and dimensions a new experiment of each kind
starts with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Template(StrEnum):
    """The kinds of experiment a new definition may start from (`template` in the API)."""

    CHECKOUT = "checkout"
    CTA = "cta"
    NEWSLETTER = "newsletter"


@dataclass(frozen=True, slots=True)
class TemplateDefaults:
    """What an experiment made from a template starts with: its unit type, metric keys,
    percentile caps (`MetricSelection.cap_percentiles`) and dimensions."""

    unit_type: str
    primary: str
    secondary: tuple[str, ...]
    guardrails: tuple[str, ...]
    cap_percentiles: Mapping[str, float] = field(default_factory=dict)
    dimensions: tuple[str, ...] = ("device", "source", "visitor_type", "market")


# Revenue is capped at the 99.9th percentile of the units with a purchase, as Statsig does by
# default: one absurd order (a typo, or a forgery) cannot decide an AOV test on its own.
REVENUE_CAP_PERCENTILE = 99.9


TEMPLATES: dict[Template, TemplateDefaults] = {
    Template.CHECKOUT: TemplateDefaults(
        "visitor",
        "conversion_rate",
        ("aov", "median_order_value", "revenue_per_visitor", "checkout_start_rate"),
        ("cart_abandonment", "refund_rate"),
        {"aov": REVENUE_CAP_PERCENTILE, "revenue_per_visitor": REVENUE_CAP_PERCENTILE},
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
