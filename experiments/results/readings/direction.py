"""Readings oriented by the metric's good direction (`stats` always compares "higher").

`stats.analyze` reports the chance that a variant's mean is *higher* than the control's and the
expected loss of shipping it when higher is better. For a lower-is-better metric (cart
abandonment, unsubscribes) the chance to beat is the chance of being *lower*, and the expected
loss is the expected relative rise. Both follow from the same normal posterior of the relative
uplift `r ~ N(m, s^2)`: P(r < 0) = 1 - P(r > 0) and E[max(0, r)] = E[max(0, -r)] + m.
The field names stay; only their values turn round. The sequential and fixed readings are
two-sided and need no change. A guardrail's non-inferiority margin is read on its one-sided
bounds (`beyond_margin`, `within_margin`), turned round here by the metric's direction.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from experiments.models.metric import Direction
from stats import AnalysisResult, BayesianResult, Comparison, Interval


def oriented(analysis: AnalysisResult, direction: Direction) -> AnalysisResult:
    """`analysis` with each comparison's Bayesian reading in the metric's good direction."""
    if direction == "increase":
        return analysis
    comparisons = tuple(_lower_is_better(comparison) for comparison in analysis.comparisons)
    return replace(analysis, comparisons=comparisons)


def _lower_is_better(comparison: Comparison) -> Comparison:
    reading = comparison.bayesian
    uplift = comparison.relative.estimate
    chance = None if reading.chance_to_beat is None else 1.0 - reading.chance_to_beat
    loss = None
    if reading.expected_loss is not None and uplift is not None:
        loss = max(reading.expected_loss + uplift, 0.0)
    return replace(comparison, bayesian=BayesianResult(chance, loss))


def is_better(direction: Direction, change: float) -> bool:
    """True when a change of this sign moves the metric the good way."""
    return change > 0 if direction == "increase" else change < 0


Movement = Literal["improved", "worsened", "no_clear_change"]


def shown_change(comparison: Comparison) -> int:
    """+1 when the reported sequential interval lies above zero, -1 below, 0 when it holds zero.

    The direction of a finding comes from this side of zero, never from a point estimate: the
    interval is what covers the effect at every look, and it is what the page prints.
    """
    interval = comparison.sequential.absolute
    if interval.ci_low is not None and interval.ci_low > 0:
        return 1
    if interval.ci_high is not None and interval.ci_high < 0:
        return -1
    return 0


def movement(direction: Direction, comparison: Comparison) -> Movement:
    """What the deciding (sequential) reading shows at this look, in the metric's direction."""
    change = shown_change(comparison)
    if not change:
        return "no_clear_change"
    return "improved" if is_better(direction, change) else "worsened"


def least_loss(direction: Direction, bounds: Interval) -> float | None:
    """The smallest relative loss ``bounds`` show, from their bound on the metric's bad side (a
    positive share; zero or below: no loss shown; None: unbounded)."""
    if direction == "increase":
        return None if bounds.ci_high is None else -bounds.ci_high
    return bounds.ci_low


def beyond_margin(direction: Direction, bounds: Interval, margin: float) -> bool:
    """A loss larger than the relative ``margin`` is shown: the one-sided bound on the bad side
    (`MetricResult.margin_bounds`) lies beyond it (below -margin when higher is better)."""
    least = least_loss(direction, bounds)
    return least is not None and least > margin


def within_margin(direction: Direction, bounds: Interval, margin: float) -> bool:
    """A loss larger than the relative ``margin`` is ruled out: the one-sided bound on the good
    side lies within it (above -margin when higher is better)."""
    if direction == "increase":
        return bounds.ci_low is not None and bounds.ci_low > -margin
    return bounds.ci_high is not None and bounds.ci_high < margin


def worst_bound(direction: Direction, bounds: Interval) -> float | None:
    """The largest loss ``bounds`` allow, as a relative change (None: unbounded)."""
    return bounds.ci_low if direction == "increase" else bounds.ci_high
