"""The plain-language summary: one or two sentences a marketer can act on.

Warnings come first (sample ratio mismatch, units in several variants); then the finding on the
primary metric with its always-valid interval; then what to do. Templates: docs/results.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from experiments.results.decision import harms, unproven_guardrails
from experiments.results.types import Decision, MetricIssue, MetricResult, Verdict
from stats import Comparison


def summarise(
    decision: Decision,
    primary: MetricResult,
    guardrails: list[MetricResult],
    control: str,
    warnings: tuple[str, ...],
    *,
    margins: Mapping[str, float] | None = None,
) -> str:
    """The summary sentence(s) for `decision`, led by any warnings."""
    lead = " ".join(warnings)
    body = _body(decision, primary, guardrails, control, margins or {})
    return f"{lead} {body}" if lead else body


def _body(
    decision: Decision,
    primary: MetricResult,
    guardrails: list[MetricResult],
    control: str,
    margins: Mapping[str, float],
) -> str:
    name = primary.name.lower()
    comparison = _comparison(primary, decision.variant)
    if decision.verdict is Verdict.SHIP and comparison is not None:
        return (
            f"Variant {comparison.variant} {_change(primary, comparison)}; "
            f"no guardrail was harmed{_rules(guardrails, margins)}. Ship {comparison.variant}."
        )
    waiting = (
        unproven_guardrails(guardrails, decision.variant, margins)
        if decision.variant is not None and decision.verdict is not Verdict.STOP
        else []
    )
    if waiting and comparison is not None:
        return _waiting(decision, primary, comparison, guardrails, waiting, margins, control)
    if decision.verdict is Verdict.STOP and comparison is not None:
        harmed = _harmed_guardrail(guardrails, comparison.variant)
        if harmed is not None:
            guardrail, other = harmed
            finding = f"Variant {other.variant} harmed {guardrail.name.lower()}: it " + _change(
                guardrail, other, with_name=False
            )
        else:
            finding = f"Variant {comparison.variant} {_change(primary, comparison)}"
        return f"{finding}. Stop the experiment and keep {control}."
    if decision.verdict is Verdict.INCONCLUSIVE:
        if decision.variant is not None:
            return "Do not act on these results until the cause is found and fixed."
        return (
            f"The planned sample is reached and no variant changed {name} clearly"
            f"{_leading(primary)}. Keep {control}, or choose on other grounds."
        )
    plan = _keep_running(decision)
    if primary.issue is MetricIssue.NOT_ENOUGH_DATA:
        return f"There is not enough data yet on {name} for a reading. {plan}"
    return f"No variant has changed {name} clearly yet{_leading(primary)}. {plan}"


def _keep_running(decision: Decision) -> str:
    more = decision.additional_units_per_variant
    days = decision.additional_days
    if more is None:
        return "Keep running until each variant has enough units for a reading."
    timing = f" (about {days} more days at the current traffic)" if days is not None else ""
    return f"Keep running: about {more:,} more units per variant{timing}.".replace(",", " ")


def _rules(guardrails: list[MetricResult], margins: Mapping[str, float]) -> str:
    """' (refund rate: a loss over 2 % is ruled out; ...)': which rule each guardrail passed."""
    if not guardrails:
        return ""
    rules = [
        f"{g.name.lower()}: a loss over {_percent(margins[g.metric])} is ruled out"
        if g.metric in margins
        else f"{g.name.lower()}: not significantly worse"
        for g in guardrails
    ]
    return f" ({'; '.join(rules)})"


def _waiting(
    decision: Decision,
    primary: MetricResult,
    comparison: Comparison,
    guardrails: list[MetricResult],
    waiting: list[str],
    margins: Mapping[str, float],
    control: str,
) -> str:
    """A better variant held back by a guardrail whose margin is not yet shown to hold."""
    names = {g.metric: g.name.lower() for g in guardrails}
    held = ", ".join(
        f"{names[key]} has not yet ruled out a loss over {_percent(margins[key])}"
        for key in waiting
    )
    finding = f"Variant {comparison.variant} {_change(primary, comparison)}, but {held}"
    if decision.verdict is Verdict.INCONCLUSIVE:
        return (
            f"{finding}. The planned sample is reached: keep {control}, or choose on other grounds."
        )
    return f"{finding}. {_keep_running(decision)}"


def _comparison(result: MetricResult, variant: str | None) -> Comparison | None:
    if result.analysis is None or not result.analysis.comparisons:
        return None
    for comparison in result.analysis.comparisons:
        if comparison.variant == variant:
            return comparison
    return result.analysis.comparisons[0]


def _harmed_guardrail(
    guardrails: list[MetricResult], variant: str
) -> tuple[MetricResult, Comparison] | None:
    for guardrail in guardrails:
        for comparison in guardrail.analysis.comparisons if guardrail.analysis else ():
            if comparison.variant == variant and harms(guardrail, comparison):
                return guardrail, comparison
    return None


def _leading(result: MetricResult) -> str:
    """' (one-page: +3 %, 95 % CI -2 % to 8 %)' for the first comparison, or ''."""
    comparison = _comparison(result, None)
    if comparison is None or comparison.relative.estimate is None:
        return ""
    return (
        f" ({comparison.variant}: {_signed_percent(comparison.relative.estimate)}, "
        f"{_interval(result, comparison)})"
    )


def _change(result: MetricResult, comparison: Comparison, *, with_name: bool = True) -> str:
    """'raised purchase conversion by 12 % (95 % CI 4 % to 21 %)'."""
    estimate = comparison.sequential.relative.estimate
    if estimate is None:
        estimate = comparison.relative.estimate
    if estimate is None:
        return f"changed {result.name.lower()}" if with_name else "changed"
    if with_name:
        verb = "raised" if estimate > 0 else "lowered"
    else:
        verb = "rose" if estimate > 0 else "fell"
    target = f" {result.name.lower()}" if with_name else ""
    return f"{verb}{target} by {_percent(abs(estimate))} ({_interval(result, comparison)})"


def _interval(result: MetricResult, comparison: Comparison) -> str:
    alpha = result.analysis.alpha if result.analysis is not None else 0.05
    level = _number((1 - alpha) * 100)
    interval = comparison.sequential.relative
    if interval.ci_low is None or interval.ci_high is None:
        return f"{level} % CI unbounded"
    return f"{level} % CI {_percent(interval.ci_low)} to {_percent(interval.ci_high)}"


def _percent(share: float) -> str:
    return f"{_number(share * 100)} %"


def _signed_percent(share: float) -> str:
    return ("+" if share > 0 else "") + _percent(share)


def _number(value: float) -> str:
    """Whole numbers from 10 up, one decimal below: '12', '4.5', '-0.3'."""
    text = f"{value:.0f}" if abs(value) >= 10 else f"{value:.1f}"
    return text.removesuffix(".0") if text not in ("0.0", "-0.0") else "0"
