"""The readings in words: which one decides, why the others may seem to disagree, reasons.

Three readings come with every comparison: the always-valid sequential test (it decides the
verdict, however often the page is read), the fixed-horizon p-value (valid only once, at the
planned sample size) and the Bayesian chance to beat the control (a probability, not a test).
When they seem to point different ways the page says why, in one line.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from experiments.results.readings.direction import movement, shown_change
from experiments.results.sums.look_ends import look_day
from experiments.results.types import FamilyReading, MetricIssue, MetricResult, Verdict
from experiments.results.verdict.guardrails import (
    GuardrailReading,
    GuardrailState,
    read_guardrail,
    reading_of,
)
from experiments.results.words.formatting import day, p_value, percent, plural, probability
from stats import Comparison, Interval, Reason

DECIDING_READING = "sequential"
# The verdicts in words, every surface's (the pages, the terminal, the JSON's headline): a
# heading, and the plain phrase a sentence or a table cell uses (docs/results.md).
_VERDICT_HEADINGS: dict[str, str] = {
    Verdict.SHIP: "Ship it",
    Verdict.STOP: "Stop it",
    Verdict.KEEP_RUNNING: "Keep running",
    Verdict.INCONCLUSIVE: "Inconclusive",
}
NO_VERDICT_YET = "No verdict yet"
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


def verdict_words(verdict: str | None, variant: str | None = None) -> str:
    """What the data says, as a heading: 'Ship it: one-page', 'Keep running'."""
    if verdict is None:
        return NO_VERDICT_YET
    words = _VERDICT_HEADINGS.get(verdict, verdict.replace("_", " "))
    return f"{words}: {variant}" if variant and verdict in (Verdict.SHIP, Verdict.STOP) else words


def verdict_phrase(verdict: str, variant: str | None = None) -> str:
    """The verdict inside a sentence or a table cell: 'keep running', 'ship: one-page'."""
    said = verdict.replace("_", " ")
    return f"{said}: {variant}" if variant else said


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


def comparison_words(
    result: MetricResult, comparison: Comparison, guardrails: tuple[GuardrailReading, ...] = ()
) -> dict[str, Any]:
    """Fields added to each comparison's JSON: outcome, deciding reading, note, reason text,
    and for a guardrail what was shown about it (its reading among the decision's
    ``guardrails``; read afresh for a metric shown without its decision)."""
    family = result.families.get(comparison.variant)
    uncorrected = family is not None and not family.sequential_significant
    words: dict[str, Any] = {
        "outcome": "no_clear_change" if uncorrected else movement(result.direction, comparison),
        "decided_by": DECIDING_READING,
        "note": over_time(result, comparison)
        or family_note(family, comparison)
        or disagreement(comparison),
        "reason_text": comparison_reason_text(result, comparison),
    }
    if result.role == "guardrail":
        variant = comparison.variant
        reading = reading_of(guardrails, result.metric, variant) or read_guardrail(
            result.metric,
            variant,
            result.direction,
            comparison,
            result.margin,
            result.margin_bounds_of(variant),
        )
        words["guardrail"] = guardrail_words(reading, comparison)
    return words


CORRECTION_NAMES = {"bh": "Benjamini-Hochberg", "holm": "Holm", "none": "no correction"}


def family_note(family: FamilyReading | None, comparison: Comparison) -> str | None:
    """One line when a secondary metric's own reading shows a change that its family, corrected
    across the secondary metrics, does not: the page never calls it a change."""
    if family is None or family.sequential_significant or not shown_change(comparison):
        return None
    adjusted = family.sequential_p_value_adjusted
    figure = "" if adjusted is None else f", adjusted p-value {p_value(adjusted)}"
    return (
        "its own interval shows a change, but not once corrected together with the other "
        f"secondary metrics ({CORRECTION_NAMES[family.correction]} over "
        f"{plural(family.size, 'reading')}{figure}): not counted as a change"
    )


def guardrail_words(reading: GuardrailReading, comparison: Comparison) -> str:
    """A guardrail's reading in words: 'improved (+12 %)' when it was shown to improve, else
    what `guardrail_status` says was shown about it."""
    if reading.improved:
        estimate = comparison.sequential.relative.estimate
        if estimate is None:
            estimate = comparison.relative.estimate
        return "improved" if estimate is None else f"improved ({percent(estimate, signed=True)})"
    return guardrail_status(reading)


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
    family = result.families.get(comparison.variant)
    significant = (
        comparison.sequential.significant if family is None else (family.sequential_significant)
    )
    if significant and not shown_change(comparison):
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


def guardrail_status(reading: GuardrailReading) -> str:
    """What was shown about a guardrail (`guardrails.GuardrailReading`).

    Without a margin: 'harmed', 'not harmed (shown within +2 %)' (the worst change the
    two-sided interval allows, within `guardrails.DISPLAY_MARGIN`), else 'no clear effect yet'.
    With one, read on its one-sided bounds: 'harmed' (a loss beyond the margin shown); a loss
    shown by the interval is 'a loss within the tolerated 2 %' once ruled out beyond the
    margin, else 'a loss, not yet shown within the tolerated 2 %'; no loss shown and the margin
    held is 'not harmed (shown within -1.2 %, one-sided)', stating the one-sided bound.
    """
    state, margin = reading.state, reading.margin
    if state is GuardrailState.HARMED:
        return "harmed"
    held = state is GuardrailState.WITHIN_MARGIN
    if margin is None:
        if held:
            return f"not harmed (shown within {percent(reading.worst or 0.0, signed=True)})"
        return "no clear effect yet"
    tolerated = f"the tolerated {percent(margin)}"
    if reading.loss_shown:
        return f"a loss within {tolerated}" if held else f"a loss, not yet shown within {tolerated}"
    if held:
        return f"not harmed (shown within {percent(reading.worst or 0.0, signed=True)}, one-sided)"
    return "no clear effect yet"
