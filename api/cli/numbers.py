"""Shares and relative changes as typed at the terminal: `0.025`, `2.5%` or `2.5 %`.

The statistics take shares (0.025 for 2.5 %), but people often type per cent. A value with a
per cent sign is divided by 100; a plain number above 1 where a share is expected, or an --mde
above 5 (+500 %), is refused with the form that was probably meant, as an `error:` line and
exit status 2, like every other input error of `vekst analyze` and `vekst sample-size`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

import typer

from experiments.results.words.formatting import percent

# An --mde above this (+500 %) plans for a handful of visitors and tells nothing.
MAX_MDE = 5.0


@dataclass(frozen=True, slots=True)
class _Typed:
    """A number as typed: its value as a share, and whether it carried a per cent sign."""

    value: float
    per_cent: bool


def refuse(message: str) -> NoReturn:
    """Print `error: message` and exit with status 2 (a usage error)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _read(text: str, flag: str, example: str) -> _Typed:
    stripped = text.strip()
    per_cent = stripped.endswith("%")
    number = stripped.removesuffix("%").strip()
    try:
        value = float(number)
    except ValueError:
        value = math.nan
    if not number or not math.isfinite(value):
        refuse(f"{flag} '{text}' is not a number; write it like {example}")
    return _Typed(value / 100 if per_cent else value, per_cent)


def _per_cent_hint(text: str, typed: _Typed) -> str:
    """'; for 20 % write 0.2 (or 20%)' when a plain number looks like per cent."""
    if typed.per_cent or not 1 < typed.value <= 100:
        return ""
    number = text.strip()
    return f"; for {number} % write {typed.value / 100:g} (or {number}%)"


# (Click passes the defaults through the parser too, as floats: hence str() below.)
def share(flag: str, rule: str, *, include_one: bool = False) -> Callable[[str], float]:
    """A parser of a share such as `--baseline`: 0.025 or 2.5%; `rule` says the allowed range
    (open at 0 and, unless `include_one`, at 1) in the error."""

    def parse(text: str) -> float:
        text = str(text)
        typed = _read(text, flag, "0.025 or 2.5%")
        inside = 0 < typed.value < 1 or (include_one and typed.value == 1)
        if not inside:
            refuse(f"{flag} must be a number {rule}{_per_cent_hint(text, typed)}")
        return typed.value

    return parse


def relative_change(flag: str) -> Callable[[str], float]:
    """A parser of a relative change such as `--mde`: 0.1 or 10%, at most +500 %."""

    def parse(text: str) -> float:
        text = str(text)
        typed = _read(text, flag, "0.1 or 10%")
        if typed.value > MAX_MDE:
            hint = _per_cent_hint(text, typed) or "; such a test needs a handful of visitors"
            refuse(
                f"{flag} {text.strip()} means a change of {percent(typed.value, signed=True)}, "
                f"more than the +500 % allowed{hint}"
            )
        return typed.value

    return parse
