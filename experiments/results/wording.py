"""The readings in words: which one decides, why the others may seem to disagree, reasons.

Three readings come with every comparison: the always-valid sequential test (it decides the
verdict, however often the page is read), the fixed-horizon p-value (valid only once, at the
planned sample size) and the Bayesian chance to beat the control (a probability, not a test).
When they seem to point different ways the page says why, in one line.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from experiments.models.metric import Direction
from experiments.results.direction import (
    beyond_margin,
    outcome,
    shown_change,
    within_margin,
    worst_bound,
)
from experiments.results.formatting import day, percent, plural, probability
from experiments.results.look_ends import look_day
from experiments.results.types import NO_BOUNDS, MetricIssue, MetricResult
from stats import Comparison, Interval, Reason

DECIDING_READING = "sequential"
# How the page words a guardrail without a margin of its own: "not harmed (shown within ...)"
# when the worst case its sequential interval allows stays within this relative change. The
# verdict's rule for such a guardrail stays "not significantly worse" (docs/results.md).
DEFAULT_GUARDRAIL_MARGIN = 0.10
_HIGH_CHANCE = 0.9

_REASONS: dict[Reason | MetricIssue, str] = {
    Reason.NOT_ENOUGH_DATA: "not enough data yet",
    Reason.ZERO_VARIANCE: "every unit has the same value, so there is no spread to compare yet",
    Reason.NO_CONVERSIONS: "no conversions in any variant yet",
    Reason.CONTROL_MEAN_ZERO: "the control's value is 0, so a change in per cent does not exist",
    Reason.DENOMINATOR_ZERO: "a variant has nothing to divide by yet (for example no orders)",
    Reason.RELATIVE_INTERVAL_UNBOUNDED: (
        "the control's value is not yet clearly above zero, so the interval in per cent has "
        "no bounds"
    ),
    MetricIssue.NOT_ENOUGH_UNITS: "not enough data yet",
    MetricIssue.NOT_ENOUGH_DATA: "not enough data yet",
    MetricIssue.INVALID_STATISTICS: "the sums could not be analysed",
    MetricIssue.NOT_IN_PASTED_COUNTS: "not in the pasted counts",
}


def reason_text(code: Reason | MetricIssue) -> str:
    """A reason code in words; codes this module does not know yet are spelled out."""
    return _REASONS.get(code, code.replace("_", " "))


def metric_issue_text(result: MetricResult) -> str | None:
    """Why a metric has no comparison: 'not enough data yet: 1 unit in control'."""
    if result.issue is None:
        return None
    text = reason_text(result.issue)
    if result.issue is MetricIssue.NOT_ENOUGH_DATA and result.detail:
        return result.detail  # already 'not enough data yet for b: the reading needs ...'
    if result.issue is MetricIssue.NOT_ENOUGH_UNITS:
        short = [f"{plural(v.n, 'unit')} in {v.key}" for v in result.variants if v.n < 2]
        return f"{text}: " + ", ".join(short) if short else text
    return f"{text}: {result.detail}" if result.detail else text


def comparison_words(result: MetricResult, comparison: Comparison) -> dict[str, Any]:
    """Fields added to each comparison's JSON: outcome, deciding reading, note, reason text,
    and for a guardrail what was shown about it."""
    words: dict[str, Any] = {
        "outcome": outcome(result.direction, comparison),
        "decided_by": DECIDING_READING,
        "note": over_time(result, comparison) or disagreement(comparison),
        "reason_text": comparison_reason_text(result, comparison),
    }
    if result.role == "guardrail":
        bounds = result.margin_bounds_of(comparison.variant)
        words["guardrail"] = guardrail_reading(result.direction, comparison, result.margin, bounds)
    return words


def guardrail_reading(
    direction: Direction,
    comparison: Comparison,
    margin: float | None,
    bounds: Interval = NO_BOUNDS,
) -> str:
    """A guardrail's reading: 'improved (+12 %)' when it was shown to improve, else what
    `guardrail_status` says was shown about it (with a margin's one-sided `bounds`)."""
    if outcome(direction, comparison) == "improved":
        estimate = comparison.sequential.relative.estimate
        if estimate is None:
            estimate = comparison.relative.estimate
        return "improved" if estimate is None else f"improved ({percent(estimate, signed=True)})"
    return guardrail_status(direction, comparison, margin, bounds)


EFFECT_CHANGING = "the effect is changing over time"


def over_time(result: MetricResult, comparison: Comparison) -> str | None:
    """One line when the looks so far tell more than this one: the effect is changing over
    time, or it was significant at an earlier look and its interval now holds zero."""
    running = result.running_of(comparison.variant)
    if running.effect_changing:
        return (
            f"{EFFECT_CHANGING}: this look's interval cannot hold together with the earlier "
            "looks', so the verdict waits"
        )
    if comparison.sequential.significant and not shown_change(comparison):
        return f"{shrunk(running.significant_since)}: this look's interval holds no change"
    return None


def shrunk(since: datetime | None) -> str:
    """'was significant on 3 March 2026; the effect has since shrunk'."""
    when = "at an earlier look" if since is None else f"on {day(look_day(since))}"
    return f"was significant {when}; the effect has since shrunk"


def comparison_reason_text(result: MetricResult, comparison: Comparison) -> str | None:
    """The comparison's reason in words; for a ratio metric whose interval is missing, what its
    denominators count: 'not enough data yet: 3 orders in control, 41 in b'."""
    relative = comparison.sequential.relative
    thin = relative.ci_low is None and relative.ci_high is None
    if result.denominators is not None and (thin or comparison.reason is not None):
        return f"not enough data yet: {result.denominators}"
    return None if comparison.reason is None else reason_text(comparison.reason)


def disagreement(comparison: Comparison) -> str | None:
    """One line when a secondary reading seems to say more than the deciding one, else None."""
    if comparison.sequential.significant:
        return None
    chance = comparison.bayesian.chance_to_beat
    if chance is not None and chance >= _HIGH_CHANCE:
        return (
            f"the chance to beat the control is high ({probability(chance)}), but there is not yet "
            "enough evidence to call it: the peeking-safe sequential test decides"
        )
    if chance is not None and chance <= 1 - _HIGH_CHANCE:
        return (
            f"the chance to beat the control is low ({probability(chance)}), but there is not yet "
            "enough evidence that it is worse: the peeking-safe sequential test decides"
        )
    if comparison.significant:
        return (
            "the fixed-horizon p-value is below the threshold, but it holds only at the planned "
            "sample size; the peeking-safe sequential test is not significant yet"
        )
    return None


def interval_text(interval: Interval, reason: Reason | None) -> str:
    """'+4.1 % to +21 %'; a missing bound is said in words, never a bare '-'."""
    low, high = interval.ci_low, interval.ci_high
    if low is not None and high is not None:
        return f"{percent(low, signed=True)} to {percent(high, signed=True)}"
    if low is not None:
        return f"{percent(low, signed=True)} or more"
    if high is not None:
        return f"{percent(high, signed=True)} or less"
    why = reason_text(reason) if reason else "too little data to bound it yet"
    return f"none yet: {why}"


def guardrail_status(
    direction: Direction,
    comparison: Comparison,
    margin: float | None,
    bounds: Interval = NO_BOUNDS,
) -> str:
    """What was shown about a guardrail with its non-inferiority ``margin`` (None: none).

    Without a margin: 'harmed' when shown worse, 'not harmed (shown within +2 %)' when the
    worst change the (two-sided) interval allows stays within DEFAULT_GUARDRAIL_MARGIN, else
    'no clear effect yet'. With one, the margin is read on the one-sided ``bounds``
    (`MetricResult.margin_bounds`): 'harmed' needs a loss beyond the margin shown; a loss shown
    by the interval but ruled out beyond the margin is 'a loss within the tolerated 2 %', one not
    yet ruled out 'a loss, not yet shown within the tolerated 2 %'; no loss shown and the margin
    held is 'not harmed (shown within -1.2 %, one-sided)', stating the one-sided bound.
    """
    worse = outcome(direction, comparison) == "worsened"
    if margin is None:
        if worse:
            return "harmed"
        if within_margin(direction, comparison.sequential.relative, DEFAULT_GUARDRAIL_MARGIN):
            worst = worst_bound(direction, comparison.sequential.relative) or 0.0
            return f"not harmed (shown within {percent(worst, signed=True)})"
        return "no clear effect yet"
    tolerated = f"the tolerated {percent(margin)}"
    if beyond_margin(direction, bounds, margin):
        return "harmed"
    held = within_margin(direction, bounds, margin)
    if worse:
        return f"a loss within {tolerated}" if held else f"a loss, not yet shown within {tolerated}"
    if held:
        worst = worst_bound(direction, bounds) or 0.0
        return f"not harmed (shown within {percent(worst, signed=True)}, one-sided)"
    return "no clear effect yet"
