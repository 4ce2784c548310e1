"""What was shown about one guardrail for one variant: the guardrail rule, in one place.

`decision.decide` reads every guardrail of every variant once with `read_guardrail` and keeps
the readings on its `Decision`; the summary and the page's words only read them. States:

- harmed: without a margin, the reported (two-sided) sequential interval lies wholly on the
  metric's bad side; with a relative non-inferiority margin, the one-sided test at level alpha
  shows a loss beyond it (`direction.beyond_margin` on `MetricResult.margin_bounds`). A harmed
  guardrail keeps its variant from shipping.
- within_margin: with a margin, a loss beyond it is ruled out (the one-sided bound on the good
  side lies within it, `direction.within_margin`), which its variant needs before it ships;
  without one, the worst change the interval allows stays within `DISPLAY_MARGIN`, which the
  page says as "not harmed" while the verdict's rule stays "not significantly worse".
- not_yet_shown: neither.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from experiments.models.metric import Direction
from experiments.results.readings.direction import (
    beyond_margin,
    least_loss,
    movement,
    within_margin,
    worst_bound,
)
from stats import Comparison, Interval

# A guardrail's one-sided bounds for its margin when it has none (nothing shown either way).
NO_BOUNDS = Interval(None, None, None)
# How far a guardrail without a margin of its own may be shown to move and still be called
# "not harmed (shown within ...)" on the page; the verdict never reads it (docs/results.md).
DISPLAY_MARGIN = 0.10


class GuardrailState(StrEnum):
    """What the guardrail's reading shows for the variant (see the module docstring)."""

    HARMED = "harmed"
    WITHIN_MARGIN = "within_margin"
    NOT_YET_SHOWN = "not_yet_shown"


@dataclass(frozen=True, slots=True)
class GuardrailReading:
    """One guardrail's state for one variant, and the figures its words need.

    `margin`: the guardrail's relative non-inferiority margin (None: it must not be shown
    worse). `loss_shown` and `improved`: the two-sided sequential interval lies wholly on the
    bad or the good side of zero. `worst`: within the margin, the worst relative change its
    bound allows (signed). `least_loss`: with a margin, the smallest loss its one-sided bound
    shows (`direction.least_loss`).
    """

    metric: str
    variant: str
    state: GuardrailState
    margin: float | None = None
    loss_shown: bool = False
    improved: bool = False
    worst: float | None = None
    least_loss: float | None = None

    @property
    def waits(self) -> bool:
        """A margin not yet shown to hold: the variant may not ship on this guardrail yet."""
        return self.margin is not None and self.state is not GuardrailState.WITHIN_MARGIN


def read_guardrail(
    metric: str,
    variant: str,
    direction: Direction,
    comparison: Comparison | None,
    margin: float | None,
    bounds: Interval = NO_BOUNDS,
) -> GuardrailReading:
    """The guardrail's state for ``variant`` from its ``comparison`` (None: no reading for the
    variant) and, with a ``margin``, its one-sided ``bounds``."""
    moved = "no_clear_change" if comparison is None else movement(direction, comparison)
    reading = GuardrailReading(
        metric,
        variant,
        GuardrailState.NOT_YET_SHOWN,
        margin,
        loss_shown=moved == "worsened",
        improved=moved == "improved",
    )
    if margin is None:
        return _without_margin(reading, direction, comparison)
    if beyond_margin(direction, bounds, margin):
        state = GuardrailState.HARMED
    elif within_margin(direction, bounds, margin):
        state = GuardrailState.WITHIN_MARGIN
    else:
        state = GuardrailState.NOT_YET_SHOWN
    worst = worst_bound(direction, bounds) if state is GuardrailState.WITHIN_MARGIN else None
    return replace(reading, state=state, worst=worst, least_loss=least_loss(direction, bounds))


def _without_margin(
    reading: GuardrailReading, direction: Direction, comparison: Comparison | None
) -> GuardrailReading:
    if reading.loss_shown:
        return replace(reading, state=GuardrailState.HARMED)
    interval = None if comparison is None else comparison.sequential.relative
    if interval is not None and within_margin(direction, interval, DISPLAY_MARGIN):
        worst = worst_bound(direction, interval)
        return replace(reading, state=GuardrailState.WITHIN_MARGIN, worst=worst)
    return reading


def reading_of(
    readings: Iterable[GuardrailReading], metric: str, variant: str
) -> GuardrailReading | None:
    """The reading of guardrail ``metric`` for ``variant`` among ``readings`` (None: none)."""
    return next((r for r in readings if r.metric == metric and r.variant == variant), None)
