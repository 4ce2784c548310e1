"""Numbers as people read them: one style everywhere, never scientific notation."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from experiments.metrics import builtin_metrics
from experiments.results.words.formatting import (
    MINUS,
    count,
    days,
    decimal,
    in_sentence,
    metric_value,
    money,
    p_value,
    percent,
    plural,
    probability,
)


@pytest.mark.parametrize(
    ("share", "signed", "text"),
    [
        (0.125, False, "12 %"),
        (0.045, False, "4.5 %"),
        (0.0004, False, "0.04 %"),
        (0.7, False, "70 %"),
        (0.034, True, "+3.4 %"),
        (-0.125, True, f"{MINUS}12 %"),
        (0.0, True, "0 %"),
        (16.8, False, "1,680 %"),
    ],
)
def test_percent(share: float, signed: bool, text: str) -> None:
    assert percent(share, signed=signed) == text


def test_counts_money_and_plurals() -> None:
    assert count(45734) == "45,734"
    assert count(1980) == "1,980"
    assert money(649, "NOK") == "649.00 NOK"
    assert money(45734.5, "EUR") == "45,734.50 EUR"
    assert plural(1, "day") == "1 day"
    assert plural(23, "day") == "23 days"
    assert plural(4000, "subscriber") == "4,000 subscribers"
    assert days(245005) == "about 671.2 years (245,005 days)"
    assert days(23) == "23 days"


def test_p_values_and_decimals_are_never_scientific() -> None:
    assert p_value(0.00004) == "< 0.001"
    assert p_value(0.031) == "0.031"
    assert p_value(0.481) == "0.48"
    assert p_value(1.0) == "1"
    assert decimal(0.0000401) == "0.00004"
    assert decimal(4.01) == "4.01"


def test_metric_values_follow_the_metric() -> None:
    metrics = builtin_metrics()
    assert metrics["cart_abandonment"].value_format == "share"
    assert metrics["conversion_rate"].value_format == "share"
    assert metrics["aov"].value_format == "money"
    assert metrics["revenue_per_recipient"].value_format == "money"
    assert metric_value(0.71, metrics["cart_abandonment"].value_format, "NOK") == "71 %"
    assert metric_value(0.025, "share", "NOK") == "2.5 %"
    assert metric_value(649.0, "money", "NOK") == "649.00 NOK"
    assert metric_value(None, "money", "NOK") == "no value yet"


def test_names_keep_their_abbreviations_in_a_sentence() -> None:
    assert in_sentence("Purchase conversion") == "purchase conversion"
    assert in_sentence("CTA click rate") == "CTA click rate"
    assert in_sentence("AOV") == "AOV"


@given(st.floats(-1e9, 1e9, allow_nan=False))
def test_no_scientific_notation_and_one_separator(value: float) -> None:
    for text in (percent(value / 1e6), decimal(value), money(value, "NOK"), count(value)):
        assert not re.search(r"\de[+-]?\d", text), text
        assert " " not in text.replace(" %", "").replace(" NOK", ""), text


def test_probabilities_never_round_to_certainty() -> None:
    assert probability(0.99996) == "> 99.9 %"
    assert probability(0.00002) == "< 0.1 %"
    assert probability(0.967) == "97 %"
