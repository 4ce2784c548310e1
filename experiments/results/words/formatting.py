"""Numbers as people read them: the one place the CLI and the summary sentence format figures.

Conventions (docs/results.md, "How figures are written"): a comma as the thousands separator
and a point as the decimal mark; percentages with a space before the sign ("12 %", "+3.4 %");
money with two decimals and its currency ("649.00 NOK"); never scientific notation; plurals
spelled out ("1 day", "23 days"); metric names as the metric defines them.
"""

from __future__ import annotations

import math
from datetime import date

from experiments.models.metric import ValueFormat

MINUS = "\N{MINUS SIGN}"


def count(value: float) -> str:
    """A whole number with thousands separators: '45,734'."""
    return f"{round(value):,}".replace("-", MINUS)


def plural(value: float, singular: str, plural_form: str | None = None) -> str:
    """'1 day', '23 days', '1,980 subscribers'."""
    word = singular if round(value) == 1 else (plural_form or f"{singular}s")
    return f"{count(value)} {word}"


def decimal(value: float, digits: int = 2) -> str:
    """A plain decimal, at least two significant digits for small values, never '4e-05'."""
    if not math.isfinite(value):
        return "unbounded"
    if value != 0 and abs(value) < 1:
        # 0.0000401 -> '0.00004': two significant digits, trailing zeros dropped.
        places = max(digits, 1 - math.floor(math.log10(abs(value))))
        text = f"{value:.{min(places, 12)}f}".rstrip("0").rstrip(".")
    else:
        text = f"{value:,.{digits}f}"
    return text.replace("-", MINUS)


def percent(share: float, *, signed: bool = False) -> str:
    """A share as a percentage: '12 %', '4.5 %', '0.04 %'; signed: '+3.4 %', '−12 %'.

    Whole numbers from 10 %, one decimal from 1 %, two significant digits below.
    """
    value = share * 100
    magnitude = abs(value)
    if magnitude >= 10:
        text = f"{magnitude:,.0f}"
    elif magnitude >= 1 or magnitude == 0:
        text = f"{magnitude:.1f}".removesuffix(".0")
    else:
        places = 1 - math.floor(math.log10(magnitude))
        text = f"{magnitude:.{min(places, 12)}f}".rstrip("0").rstrip(".")
    if text in ("0", "0.0"):
        return "0 %"
    sign = MINUS if value < 0 else ("+" if signed else "")
    return f"{sign}{text} %"


def probability(value: float) -> str:
    """A probability as a percentage that never rounds to certainty: '97 %', '> 99.9 %'."""
    if value > 0.999:
        return "> 99.9 %"
    if value < 0.001:
        return "< 0.1 %"
    return percent(value)


def money(value: float, currency: str) -> str:
    """'649.00 NOK', '−12.50 NOK', '45,734.00 NOK'."""
    return f"{value:,.2f}".replace("-", MINUS) + f" {currency}"


def metric_value(value: float | None, value_format: ValueFormat, currency: str) -> str:
    """A metric's value in one variant: a percentage, money or a decimal."""
    if value is None:
        return "no value yet"
    if value_format == "share":
        return percent(value)
    if value_format == "money":
        return money(value, currency)
    return decimal(value)


def p_value(value: float) -> str:
    """'0.031', '0.48', '< 0.001', '1'."""
    if value < 0.001:
        return "< 0.001"
    if value >= 0.9995:
        return "1"
    return f"{value:.3f}".rstrip("0").rstrip(".") if value < 0.1 else f"{value:.2f}"


def days(value: float) -> str:
    """Days in words, and years beyond a year: '23 days', 'about 2.3 years (845 days)'."""
    if value > 365:
        return f"about {value / 365:.1f} years ({plural(value, 'day')})"
    return plural(value, "day")


def day(when: date) -> str:
    """'3 March 2026'."""
    return f"{when.day} {when:%B %Y}"


def in_sentence(name: str) -> str:
    """A metric name inside a sentence: 'Purchase conversion' -> 'purchase conversion'.

    Names that start with an abbreviation ('CTA click rate', 'AOV') are kept as defined.
    """
    if len(name) > 1 and name[0].isupper() and name[1].islower():
        return name[0].lower() + name[1:]
    return name
