"""The plain-language summary: a few sentences a marketer can act on.

Warnings come first (sample ratio mismatch, units in several variants); then the finding on the
primary metric with its always-valid interval; what was shown about each guardrail; then what
to do. Figures are written by `formatting`, readings by `wording`. Templates: docs/results.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from experiments.results.readings.direction import shown_change
from experiments.results.types import (
    Decision,
    FixedListPlan,
    MetricIssue,
    MetricResult,
    SendAdvice,
    Verdict,
)
from experiments.results.verdict.decision import changing_metrics, unproven_guardrails
from experiments.results.verdict.guardrails import reading_of
from experiments.results.words.formatting import count, days, in_sentence, money, percent, plural
from experiments.results.words.wording import (
    EFFECT_CHANGING,
    guardrail_words,
    metric_issue_text,
    shrunk,
)
from stats import Comparison

_YEAR_DAYS = 365


@dataclass(frozen=True, slots=True)
class SummaryTerms:
    """What the sentences call a unit (visitor, subscriber) and the money's currency."""

    unit: str = "unit"
    currency: str = "NOK"


def summarise(
    decision: Decision,
    primary: MetricResult,
    guardrails: list[MetricResult],
    control: str,
    warnings: tuple[str, ...],
    wording: SummaryTerms | None = None,
) -> str:
    """The summary sentence(s) for `decision`, led by any warnings; what it says of each
    guardrail is the decision's reading of it (`Decision.guardrails`)."""
    words = wording or SummaryTerms()
    lead = " ".join(warnings)
    finding, action = _body(decision, primary, guardrails, control, words)
    sentences = [finding]
    plan = decision.list_plan
    if plan is not None:
        sentences.append(_detectable(plan, primary, words))
    if decision.send is not None:
        # Test-then-send: sending to the rest of the list is the action.
        action = _send(decision.send, control, words)
    sentences.append(action)
    body = " ".join(sentence for sentence in sentences if sentence)
    return f"{lead} {body}" if lead else body


def _body(
    decision: Decision,
    primary: MetricResult,
    guardrails: list[MetricResult],
    control: str,
    words: SummaryTerms,
) -> tuple[str, str]:
    """(what was found, what to do)."""
    name = in_sentence(primary.name)
    comparison = _comparison(primary, decision.variant)
    if decision.wait_until is not None:
        closes = decision.wait_until.strftime("%Y-%m-%d %H:%M UTC")
        return (
            f"The attribution window after the send closes at {closes}; the verdict waits for "
            f"it{_leading(primary)}.",
            "",
        )
    if decision.verdict is Verdict.SHIP and comparison is not None:
        return (
            f"Variant {comparison.variant} {_change(primary, comparison)}."
            f"{_guardrails(guardrails, comparison.variant, decision)}",
            f"Ship {comparison.variant}.",
        )
    held = _held(decision, primary, guardrails, words, control)
    if held is not None:
        return held
    if decision.verdict is Verdict.STOP and comparison is not None:
        return _stopped(decision, primary, comparison, guardrails), (
            f"Stop the experiment and keep {control}."
        )
    if decision.verdict is Verdict.INCONCLUSIVE:
        if decision.variant is not None:
            return "", "Do not act on these results until the cause is found and fixed."
        reached = (
            "The attribution window has closed"
            if decision.list_plan
            else "The planned sample is reached"
        )
        return (
            f"{reached} and no variant changed {name} clearly{_leading(primary)}."
            + _since_shrunk(primary),
            f"Keep {control}, or choose on other grounds.",
        )
    if primary.issue is MetricIssue.NOT_ENOUGH_DATA:
        return f"There is not enough data yet on {name} for a reading.", _plan(decision, words)
    if primary.issue is not None:
        return f"No reading of {name} yet ({metric_issue_text(primary)}).", _plan(decision, words)
    return (
        f"No variant has changed {name} clearly yet{_leading(primary)}." + _since_shrunk(primary),
        _plan(decision, words),
    )


def _stopped(
    decision: Decision,
    primary: MetricResult,
    comparison: Comparison,
    guardrails: list[MetricResult],
) -> str:
    """What got worse: the guardrail the decision found harmed, else the primary metric."""
    harmed = _harmed_guardrail(guardrails, decision)
    if harmed is None:
        return f"Variant {comparison.variant} {_change(primary, comparison)}."
    guardrail, other = harmed
    finding = f"Variant {other.variant} harmed {in_sentence(guardrail.name)}: it " + _change(
        guardrail, other, with_name=False
    )
    reading = reading_of(decision.guardrails, guardrail.metric, other.variant)
    if reading is not None and reading.margin is not None:
        finding += f", beyond the tolerated {percent(reading.margin)}"
        if reading.least_loss is not None:
            finding += f" (a loss of at least {percent(reading.least_loss)} shown, one-sided)"
    return f"{finding}."


def _held(
    decision: Decision,
    primary: MetricResult,
    guardrails: list[MetricResult],
    words: SummaryTerms,
    control: str,
) -> tuple[str, str] | None:
    """A variant the verdict holds back: its effect is changing over time, or a guardrail's
    margin is not yet shown to hold; None otherwise."""
    comparison = _comparison(primary, decision.variant)
    if decision.variant is None or decision.verdict is Verdict.STOP or comparison is None:
        return None
    changing = changing_metrics(primary, guardrails, decision.variant)
    if changing:
        return _changing(decision, primary, comparison, guardrails, changing, words, control)
    waiting = unproven_guardrails(decision.guardrails, decision.variant)
    if waiting:
        return _waiting(decision, primary, comparison, guardrails, waiting, words, control)
    return None


def _since_shrunk(primary: MetricResult) -> str:
    """' Variant V was significant on 3 March 2026; the effect has since shrunk.' for the first
    variant significant at an earlier look whose interval now holds zero, or ''."""
    for comparison in primary.analysis.comparisons if primary.analysis else ():
        if comparison.sequential.significant and not shown_change(comparison):
            since = primary.running_of(comparison.variant).significant_since
            return f" Variant {comparison.variant} {shrunk(since)}."
    return ""


def _changing(
    decision: Decision,
    primary: MetricResult,
    comparison: Comparison,
    guardrails: list[MetricResult],
    changing: list[str],
    words: SummaryTerms,
    control: str,
) -> tuple[str, str]:
    """A variant whose effect on a deciding metric is changing over time: the verdict waits."""
    by_key = {result.metric: result for result in (primary, *guardrails)}
    parts = []
    for key in changing:
        result = by_key[key]
        found = _comparison(result, comparison.variant)
        reading = "" if found is None else f" ({_estimate(result, found)})"
        parts.append(f"{in_sentence(result.name)}{reading}")
    finding = (
        f"{EFFECT_CHANGING[0].upper()}{EFFECT_CHANGING[1:]}: variant {comparison.variant}'s "
        f"change in {' and '.join(parts)} at this look cannot hold together with the earlier "
        "looks', so the verdict waits."
    )
    if decision.verdict is Verdict.INCONCLUSIVE:
        return finding, _reached(control)
    return finding, _plan(decision, words)


def _reached(control: str) -> str:
    return f"The planned sample is reached: keep {control}, or choose on other grounds."


def _plan(decision: Decision, words: SummaryTerms) -> str:
    more = decision.additional_units_per_variant
    if more is None:
        return f"Keep running until each variant has enough {words.unit}s for a reading."
    plan = f"Keep running: about {plural(more, f'more {words.unit}')} per variant"
    remaining = decision.additional_days
    if remaining is None:
        # Less than a day of traffic (and no reading yet) says nothing about the pace.
        return f"{plan}; too early to estimate how long: come back tomorrow."
    if remaining > _YEAR_DAYS:
        return (
            f"{plan}. At the current traffic that takes more than a year, so this change may be "
            "too small to measure here; a bolder one is read sooner."
        )
    timing = days(remaining).replace(" day", " more day", 1)
    if not timing.startswith("about "):
        timing = f"about {timing}"
    return f"{plan} ({timing} at the current traffic)."


def _detectable(plan: FixedListPlan, primary: MetricResult, words: SummaryTerms) -> str:
    if plan.detectable_change is None:
        return ""
    return (
        f"With {plural(plan.units_per_variant, words.unit)} per variant your list can detect "
        f"a change in {in_sentence(primary.name)} of {percent(plan.detectable_change)} or more."
    )


def _send(advice: SendAdvice, control: str, words: SummaryTerms) -> str:
    """Test-then-send: which variant the rest of the list gets, and what it should bring."""
    rest = plural(advice.remaining_units, f"remaining {words.unit}")
    gain = ""
    if advice.expected_extra is not None and advice.variant != control:
        amount = (
            money(advice.expected_extra, words.currency)
            if advice.counted_as == "revenue"
            else count(advice.expected_extra)
        )
        noun = "more revenue" if advice.counted_as == "revenue" else f"more {advice.counted_as}"
        gain = f": about {amount} {noun} than with {control}"
    if advice.clearly_better:
        return f"Send {advice.variant} to the {rest}{gain}."
    if advice.variant == control:
        return f"Send {control} to the {rest}: no variant did better in the test."
    return (
        f"No variant is clearly better; {advice.variant} did best in the test (this may be "
        f"chance). Sent to the {rest} it would bring{gain.removeprefix(':')} if the "
        "difference holds."
    )


def _guardrails(guardrails: list[MetricResult], variant: str, decision: Decision) -> str:
    """' Guardrails: cart abandonment not harmed (shown within +2 %); refund rate: no clear
    effect yet. Rules: cart abandonment must rule out a loss over 2 %; refund rate must not be
    significantly worse.' for the variant, or '' without guardrails."""
    parts = []
    for guardrail in guardrails:
        comparison = _comparison(guardrail, variant)
        reading = reading_of(decision.guardrails, guardrail.metric, variant)
        name = in_sentence(guardrail.name)
        if comparison is None or reading is None:
            parts.append(f"{name}: no reading yet")
            continue
        status = guardrail_words(reading, comparison)
        parts.append(
            f"{name} {status}" if status.startswith(("not", "improved")) else f"{name}: {status}"
        )
    if not parts:
        return ""
    return f" Guardrails: {'; '.join(parts)}. Rules: {_rules(guardrails)}."


def _rules(guardrails: list[MetricResult]) -> str:
    """Which rule decided each guardrail: its margin (a smaller loss is tolerated), or 'not
    significantly worse'."""
    return "; ".join(
        f"{in_sentence(g.name)} must rule out a loss over {percent(g.margin)} (a "
        "smaller loss is tolerated)"
        if g.margin is not None
        else f"{in_sentence(g.name)} must not be significantly worse"
        for g in guardrails
    )


def _waiting(
    decision: Decision,
    primary: MetricResult,
    comparison: Comparison,
    guardrails: list[MetricResult],
    waiting: list[str],
    words: SummaryTerms,
    control: str,
) -> tuple[str, str]:
    """A better variant held back by a guardrail whose margin is not yet shown to hold."""
    by_key = {g.metric: g for g in guardrails}
    held = ", ".join(
        f"{in_sentence(by_key[key].name)} has not yet ruled out a loss over "
        f"{percent(by_key[key].margin or 0.0)}"
        for key in waiting
    )
    finding = f"Variant {comparison.variant} {_change(primary, comparison)}, but {held}."
    if decision.verdict is Verdict.INCONCLUSIVE:
        return finding, _reached(control)
    return finding, _plan(decision, words)


def _comparison(result: MetricResult, variant: str | None) -> Comparison | None:
    """``variant``'s comparison (None when the metric has none for it); with no variant named,
    the first comparison. A named variant is never swapped for another: the sentence would
    then state another variant's figures under its name."""
    comparisons = result.analysis.comparisons if result.analysis is not None else ()
    if variant is None:
        return comparisons[0] if comparisons else None
    return next((c for c in comparisons if c.variant == variant), None)


def _harmed_guardrail(
    guardrails: list[MetricResult], decision: Decision
) -> tuple[MetricResult, Comparison] | None:
    """The guardrail the decision found harmed, with its comparison for the decided variant."""
    for guardrail in guardrails:
        if guardrail.metric == decision.harmed_guardrail:
            comparison = _comparison(guardrail, decision.variant)
            return None if comparison is None else (guardrail, comparison)
    return None


def _leading(result: MetricResult) -> str:
    """' (one-page: +3 %, 95 % CI −2 % to +8 %)' for the first comparison, or ''."""
    comparison = _comparison(result, None)
    if comparison is None or comparison.relative.estimate is None:
        return ""
    return f" ({comparison.variant}: {_estimate(result, comparison)})"


def _estimate(result: MetricResult, comparison: Comparison) -> str:
    """'+3 %, 95 % CI −2 % to +8 %' (the relative change and its sequential interval)."""
    estimate = comparison.sequential.relative.estimate
    if estimate is None:
        estimate = comparison.relative.estimate
    change = "no value yet" if estimate is None else percent(estimate, signed=True)
    return f"{change}, {_interval(result, comparison, signed=True)}"


def _change(result: MetricResult, comparison: Comparison, *, with_name: bool = True) -> str:
    """'raised purchase conversion by 12 % (95 % CI 4 % to 21 %)'."""
    estimate = comparison.sequential.relative.estimate
    if estimate is None:
        estimate = comparison.relative.estimate
    if estimate is None:
        return f"changed {in_sentence(result.name)}" if with_name else "changed"
    # The side of zero the interval shows, when it shows one; the estimate lies on that side.
    up = shown_change(comparison) > 0 if shown_change(comparison) else estimate > 0
    if with_name:
        verb = "raised" if up else "lowered"
    else:
        verb = "rose" if up else "fell"
    target = f" {in_sentence(result.name)}" if with_name else ""
    return f"{verb}{target} by {percent(abs(estimate))} ({_interval(result, comparison)})"


def _interval(result: MetricResult, comparison: Comparison, *, signed: bool = False) -> str:
    alpha = result.analysis.alpha if result.analysis is not None else 0.05
    level = percent(1 - alpha)
    interval = comparison.sequential.relative
    if interval.ci_low is None or interval.ci_high is None:
        return f"{level} CI unbounded: too little data to bound it yet"
    low, high = percent(interval.ci_low, signed=signed), percent(interval.ci_high, signed=signed)
    return f"{level} CI {low} to {high}"
