"""The words of one look: its warnings and its summary sentence as the page serves it.

The summary (`summary_sentence.summarise`) is led by the warnings, followed by the plan's
sentence while the verdict waits for a re-plan, and led in turn by what was done at the stop.
"""

from __future__ import annotations

from collections.abc import Sequence

from experiments.results.sums.aggregation import Aggregates
from experiments.results.types import Decision, MetricResult, PlanFacts, SegmentFinding, Verdict
from experiments.results.verdict.decision import PlanProgress
from experiments.results.verdict.stop_outcome import StopOutcome, summary_after_stop
from experiments.results.words.formatting import p_value, percent, plural
from experiments.results.words.plan_words import cuped_sentence
from experiments.results.words.segment_words import differ_sentence
from experiments.results.words.summary_sentence import SummaryTerms, summarise
from stats import SrmResult


def look_summary(
    decision: Decision,
    readings: list[MetricResult],
    control: str,
    warnings: tuple[str, ...],
    terms: SummaryTerms,
    plan: PlanFacts,
    progress: PlanProgress,
    outcome: StopOutcome | None,
    segments: Sequence[SegmentFinding] | None = None,
) -> str:
    """The summary sentence(s) of a look whose `readings` are in page order, primary first,
    ending with the segments that differ (exploratory) when there are any."""
    guardrails = [result for result in readings if result.role == "guardrail"]
    summary = summarise(decision, readings[0], guardrails, control, warnings, terms)
    if progress.waits_for_replan and decision.verdict is Verdict.KEEP_RUNNING:
        summary = f"{summary} {plan.text}"
    elif plan.variance_reduction is not None and decision.additional_units_per_variant:
        # "Keep running: N more" counts CUPED's reduction; the summary says so.
        summary = f"{summary}{cuped_sentence(plan, terms.unit)}"
    if segments:
        summary = f"{summary} {differ_sentence(segments)}"
    return summary_after_stop(summary, outcome)


def look_warnings(srm: SrmResult, aggregates: Aggregates) -> tuple[str, ...]:
    """The warnings that lead the summary: a sample ratio mismatch, units in several variants."""
    warnings = []
    if srm.mismatch:
        warnings.append(
            "Warning: the units are not split between the variants as designed (sample ratio "
            f"mismatch, p {_p_text(srm.p_value)}); the results cannot be trusted until the cause "
            "is found."
        )
    if aggregates.multi_variant_units:
        share = aggregates.multi_variant_share
        warnings.append(
            f"Warning: {plural(aggregates.multi_variant_units, 'unit')} ({percent(share)}) saw "
            "more than one variant and were left out."
        )
    return tuple(warnings)


def _p_text(value: float) -> str:
    """'= 0.003' or '< 0.001', never '4e-05'."""
    text = p_value(value)
    return text if text.startswith("<") else f"= {text}"
