"""A percentile cap in words: the value it came to at this look, and what the interval is about.

A capped metric's interval is about the capped values, not the raw ones: with a cap low in the
tail, an effect on large orders is partly cut off (a 90th-percentile cap covered the uncapped
effect on order values in 90 % of runs, the statistics review of December 2026). The page and
the JSON say so: "Each visitor counted up to 7,526 NOK (the 99th percentile at this look); the
interval is about these capped values."
"""

from __future__ import annotations

from experiments.models.metric import ValueFormat
from experiments.results.types import PercentileCap
from experiments.results.words.formatting import count, decimal, money


def cap_value(value: float, value_format: ValueFormat, currency: str) -> str:
    """'7,526 NOK' (whole units from 100 on, else two decimals), or a plain number."""
    if value_format == "money":
        return f"{count(value)} {currency}" if value >= 100 else money(value, currency)
    return decimal(value)


def _ordinal(percentile: float) -> str:
    text = f"{percentile:g}"
    if text.endswith("1") and not text.endswith("11"):
        return f"{text}st"
    if text.endswith("2") and not text.endswith("12"):
        return f"{text}nd"
    if text.endswith("3") and not text.endswith("13"):
        return f"{text}rd"
    return f"{text}th"


def cap_description(cap: PercentileCap, unit: str, value_format: ValueFormat, currency: str) -> str:
    """What the cap did at this look, in one sentence."""
    if cap.value is None:
        return (
            f"Capped at the {_ordinal(cap.percentile)} percentile of the {unit}s with a value; "
            "no value to cap at yet."
        )
    return (
        f"Each {unit} counted up to {cap_value(cap.value, value_format, currency)} (the "
        f"{_ordinal(cap.percentile)} percentile at this look); the interval is about these "
        "capped values, not the uncapped ones."
    )
