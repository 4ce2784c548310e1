"""Results pages built by hand for tests of what reads them (pages, command line, overview)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from experiments.results.page import ComparisonPage, MetricPage, ResultsPage

MOMENT = datetime(2026, 3, 3, tzinfo=UTC)
_NO_INTERVAL = {"estimate": None, "ci_low": None, "ci_high": None}


def a_comparison(variant: str = "b", **fields: Any) -> ComparisonPage:
    """A comparison with no figures yet; `fields` replace its parts ('sequential' is merged)."""
    sequential = {
        "p_value": None,
        "absolute": _NO_INTERVAL,
        "relative": _NO_INTERVAL,
        "significant": False,
    } | fields.pop("sequential", {})
    data = {
        "variant": variant,
        "baseline": "a",
        "absolute": _NO_INTERVAL,
        "relative": _NO_INTERVAL,
        "p_value": None,
        "p_value_adjusted": None,
        "significant": False,
        "sequential": sequential,
        "bayesian": {"chance_to_beat": None, "expected_loss": None},
        "reason": None,
    }
    return ComparisonPage.model_validate(data | fields)


def a_metric(
    variants: dict[str, int], comparisons: list[ComparisonPage], **fields: Any
) -> MetricPage:
    """A conversion metric with those units per variant (the first the control)."""
    data = {
        "metric": "conversion_rate",
        "name": "Purchase conversion",
        "kind": "conversion",
        "direction": "increase",
        "role": "primary",
        "variants": [{"key": key, "n": n, "value": None} for key, n in variants.items()],
        "comparisons": comparisons,
        "reason": None,
        "detail": None,
    }
    return MetricPage.model_validate(data | fields)


def a_page(metrics: list[MetricPage], **fields: Any) -> ResultsPage:
    """A running experiment's page with those metrics; `fields` replace its parts."""
    data = {
        "experiment": "exp",
        "status": "running",
        "computed_at": MOMENT,
        "as_of": MOMENT,
        "srm": {"p_value": None, "mismatch": False},
        "warnings": [],
        "metrics": metrics,
        "decision": {"verdict": "keep_running", "variant": None, "reason": "no verdict yet"},
        "summary": "Keep running.",
    }
    return ResultsPage.model_validate(data | fields)
