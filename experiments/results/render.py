"""The pipeline's edge: a look's typed results become the page it stores and serves.

`stats`' fast dataclasses and the pipeline's results (`types`) stay internal; this module turns
them into `page.ResultsPage` once, with the words each comparison carries (`wording`) and the
heading the page leads with (`headline`). A field that belongs to some pages only (a
guardrail's reading, a keep-running decision's remaining units, a send's list) is set on those
pages only, so the served JSON leaves it out elsewhere.
"""

from __future__ import annotations

import math
from typing import Any

from experiments.results.bandit_page import ArmPage, BanditPage, GainPage, PeriodPage
from experiments.results.bandit_types import BanditReading
from experiments.results.page import (
    Bounds,
    CapPage,
    ComparisonPage,
    DecisionPage,
    FamilyPage,
    IntervalReading,
    ListPlanPage,
    MarginBounds,
    MetricPage,
    OutcomePage,
    PlanPage,
    ResultsPage,
    SegmentDifferencePage,
    SendAdvicePage,
    SrmPage,
    VariantValue,
)
from experiments.results.sums.aggregation import GroupKey
from experiments.results.types import (
    Decision,
    ExperimentResults,
    MetricResult,
    PlanFacts,
    SegmentFinding,
    Verdict,
)
from experiments.results.verdict.guardrails import GuardrailReading
from experiments.results.verdict.stop_outcome import StopOutcome
from experiments.results.words.bandit_words import BIASED_BY_CHANGING_WEIGHTS
from experiments.results.words.headline import with_headline
from experiments.results.words.wording import DECIDING_READING, comparison_words, metric_issue_text


def results_page(results: ExperimentResults) -> ResultsPage:
    """The page of one look, with its `display_state` and `headline` (no look number)."""
    page = ResultsPage(
        experiment=results.experiment,
        status=results.status,
        source=results.source,
        currency=results.currency,
        unit=results.unit,
        planned_units_per_variant=results.planned_units_per_variant,
        plan=None if results.plan is None else plan_page(results.plan),
        computed_at=results.computed_at,
        as_of=results.as_of,
        srm=SrmPage.model_validate(results.srm.to_dict()),
        warnings=list(results.warnings),
        metrics=[metric_page(metric, results.decision.guardrails) for metric in results.metrics],
        decision=decision_page(results.decision, results.outcome),
        summary=results.summary,
    )
    if results.segments_that_differ is not None:
        # Set only with dimensions, so a page without them serves and stores as before.
        found = [segment_page(finding) for finding in results.segments_that_differ]
        page = page.model_copy(update={"segments_that_differ": found})
    if results.bandit is not None:
        page = page.model_copy(update={"bandit": bandit_page(results.bandit)})
    return with_headline(page)


def bandit_page(reading: BanditReading) -> BanditPage:
    """A bandit's part of the page."""
    gain = reading.gain
    return BanditPage(
        metric=reading.metric,
        arms=[
            ArmPage(
                variant=arm.variant,
                units=arm.units,
                mean=_finite(arm.mean),
                standard_error=_finite(arm.standard_error),
                probability_best=arm.probability_best,
                weight=arm.weight,
            )
            for arm in reading.arms
        ],
        weights=reading.weights,
        probability_best={arm.variant: arm.probability_best for arm in reading.arms},
        history=[
            PeriodPage(
                period=period.period,
                starts_at=period.starts_at,
                weights=period.weights,
                seed=period.seed,
                units=period.units,
                srm_p_value=period.srm_p_value,
            )
            for period in reading.periods
        ],
        seed=reading.seed,
        draws=reading.draws,
        exploring=reading.exploring,
        exploration_ends_at=reading.exploration_ends_at,
        leader=reading.leader,
        called=reading.called,
        winner_probability=reading.winner_probability,
        updated=reading.update is not None,
        gain=None
        if gain is None
        else GainPage(extra=gain.extra, standard_error=gain.standard_error, text=gain.text),
        ab_readings=BIASED_BY_CHANGING_WEIGHTS,
    )


def segment_page(finding: SegmentFinding) -> SegmentDifferencePage:
    """A segment that differs, as the page shows it (infinite figures as unbounded)."""
    return SegmentDifferencePage(
        dimension=finding.dimension,
        level=finding.level,
        variant=finding.variant,
        rest_level=finding.rest_level,
        level_effect=_finite(finding.level_effect),
        rest_effect=_finite(finding.rest_effect),
        difference=IntervalReading.model_validate(finding.difference.to_dict()),
        p_value_adjusted=finding.p_value_adjusted,
        found_at=finding.found_at,
        differs_at_this_look=finding.differs_at_this_look,
    )


def metric_page(result: MetricResult, guardrails: tuple[GuardrailReading, ...] = ()) -> MetricPage:
    """One metric of the page: its values per variant and its comparisons in words (a
    guardrail's from the decision's `guardrails` readings)."""
    return MetricPage(
        metric=result.metric,
        name=result.name,
        kind=result.kind,
        direction=result.direction,
        value_format=result.value_format,
        role=result.role,
        # The page's own shape ("value", not stats' "mean": a rate, a mean or a ratio).
        variants=[
            VariantValue(key=v.key, n=v.n, value=v.mean, group=GroupKey(variant=v.key))
            for v in result.variants
        ],
        not_pasted=list(result.not_pasted),
        comparisons=comparison_pages(result, guardrails),
        reason=result.issue,
        detail=result.detail,
        reason_text=metric_issue_text(result),
        denominators=result.denominators,
        cap=None
        if result.cap is None
        else CapPage(
            percentile=result.cap.percentile,
            value=result.cap.value,
            description=result.cap.description,
        ),
        margin=result.margin,
    )


def comparison_pages(
    result: MetricResult, guardrails: tuple[GuardrailReading, ...] = ()
) -> list[ComparisonPage]:
    """The metric's comparisons: `stats`' reading (its JSON), the running reading of the looks
    so far, a margin's one-sided bounds and the words (a guardrail's from its reading among the
    decision's `guardrails`)."""
    if result.analysis is None:
        return []
    pages = []
    for comparison in result.analysis.comparisons:
        data: dict[str, Any] = comparison.to_dict() | comparison_words(
            result, comparison, guardrails
        )
        running = result.running.get(comparison.variant)
        if running is not None:
            since = running.significant_since
            data["sequential"] |= {
                "significant_since": since,
                "effect_changing": running.effect_changing,
                "intersection": Bounds(
                    ci_low=running.intersection.ci_low, ci_high=running.intersection.ci_high
                ),
            }
        family = result.families.get(comparison.variant)
        if family is not None:
            data["family"] = FamilyPage(
                family=family.family,
                correction=family.correction,
                size=family.size,
                p_value_adjusted=_finite(family.p_value_adjusted),
                significant=family.significant,
                sequential_p_value_adjusted=_finite(family.sequential_p_value_adjusted),
                sequential_significant=family.sequential_significant,
            )
        bounds = result.margin_bounds.get(comparison.variant)
        if bounds is not None:
            finite = bounds.to_dict()
            data["margin_bounds"] = MarginBounds(
                ci_low=finite["ci_low"], ci_high=finite["ci_high"], alternative="one-sided"
            )
        pages.append(ComparisonPage.model_validate(data))
    return pages


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def plan_page(plan: PlanFacts) -> PlanPage:
    cuped: dict[str, Any] = {}
    if plan.variance_reduction is not None:
        cuped = {
            "variance_reduction": plan.variance_reduction,
            "cuped_units_per_variant": plan.cuped_units_per_variant,
        }
    return PlanPage(
        **cuped,
        units_per_variant=plan.units_per_variant,
        planned_from=plan.planned_from,
        baseline=plan.baseline,
        baseline_kind="rate" if plan.kind == "conversion" else "coefficient_of_variation",
        observed_baseline=plan.observed_baseline,
        detectable_change=plan.detectable_change,
        replanned_at=plan.replanned_at,
        text=plan.text,
    )


def decision_page(decision: Decision, outcome: StopOutcome | None) -> DecisionPage:
    """The decision; a keep-running one says what it waits for, a send to a list its plan."""
    parts: dict[str, Any] = {}
    if decision.verdict is Verdict.KEEP_RUNNING:
        parts |= {
            "additional_units_per_variant": decision.additional_units_per_variant,
            "additional_days": decision.additional_days,
            "wait_until": decision.wait_until,
        }
    if decision.list_plan is not None:
        listed, send = decision.list_plan, decision.send
        parts["list"] = ListPlanPage(
            population=listed.population,
            units_per_variant=listed.units_per_variant,
            detectable_change=listed.detectable_change,
            window_closes_at=listed.window_closes_at,
            test_share=listed.test_share,
        )
        parts["send"] = (
            None
            if send is None
            else SendAdvicePage(
                variant=send.variant,
                clearly_better=send.clearly_better,
                remaining_units=send.remaining_units,
                expected_extra=send.expected_extra,
                counted_as=send.counted_as,
            )
        )
    return DecisionPage.model_validate(
        {
            "verdict": decision.verdict,
            "variant": decision.variant,
            "reason": decision.reason,
            "decided_by": DECIDING_READING,
            **parts,
            "outcome": None if outcome is None else outcome_page(outcome),
        }
    )


def outcome_page(outcome: StopOutcome) -> OutcomePage:
    return OutcomePage(
        stopped_at=outcome.stopped_at,
        winner=outcome.winner,
        control=outcome.control,
        statement=outcome.statement,
        headline=outcome.headline,
    )
