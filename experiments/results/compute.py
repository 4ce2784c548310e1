"""Entry points: an experiment's full results, and one metric's daily timeseries.

The API and the CLI call these; they read the definition, aggregate in SQL, analyse each metric
with `stats.analyze`, decide and summarise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlmodel import Session

from experiments.definitions import get_experiment
from experiments.errors import ConflictError
from experiments.inputs import require_timezone
from experiments.metrics import metric_catalog
from experiments.models.experiment import Design, Experiment, ExperimentStatus, MetricSelection
from experiments.models.metric import MetricDefinition
from experiments.results.sums.aggregation import Aggregates
from experiments.results.sums.sum_sources import ExperimentSums, load_sums
from experiments.results.types import (
    NO_SRM_CHECK,
    ExperimentResults,
    MetricResult,
    PercentileCap,
    Role,
    Verdict,
)
from experiments.results.verdict.decision import Blockers, PlanProgress, decide
from experiments.results.verdict.fixed_list import for_fixed_list
from experiments.results.verdict.replan import design_as_of, plan_facts
from experiments.results.verdict.stop_outcome import stop_outcome_of, summary_after_stop
from experiments.results.words.caps import cap_description
from experiments.results.words.formatting import p_value, percent, plural
from experiments.results.words.plan_words import plan_sentence
from experiments.results.words.summary_sentence import SummaryTerms, summarise
from stats import AnalysisOptions, SrmResult


def compute_results(
    session: Session, key: str, as_of: datetime | None = None, now: datetime | None = None
) -> ExperimentResults:
    """Results of experiment `key` counting events up to `as_of` (default: now, or the stop).

    Raises NotFoundError for an unknown key, ConflictError for a draft (it has no data) and
    InvalidInputError for an `as_of` without a timezone.
    """
    computed_at = now or datetime.now(UTC)
    experiment = get_experiment(session, key)
    end = end_of_analysis(experiment, as_of, computed_at)
    inputs = results_inputs(session, experiment)
    sums = load_experiment_sums(session, inputs, end)
    return results_from_sums(inputs, sums, end, computed_at)


@dataclass(frozen=True, slots=True)
class ResultsInputs:
    """An experiment, its metric selection, and its metrics' definitions and roles in page
    order (primary first)."""

    experiment: Experiment
    selection: MetricSelection
    definitions: list[MetricDefinition]
    roles: list[Role]
    design: Design
    """The experiment's design; a look that re-plans passes its re-planned design on."""

    @property
    def variants(self) -> list[str]:
        return self.experiment.variant_keys()


def results_inputs(session: Session, experiment: Experiment) -> ResultsInputs:
    """The definitions of the experiment's metrics, read once for any number of looks."""
    selection = experiment.metrics
    roles = _roles(selection)
    catalog = metric_catalog(session)
    return ResultsInputs(
        experiment,
        selection,
        [catalog[metric_key] for metric_key, _ in roles],
        [role for _, role in roles],
        experiment.design,
    )


def load_experiment_sums(session: Session, inputs: ResultsInputs, end: datetime) -> ExperimentSums:
    """The sums of one look ending at `end`: pasted counts or events, percentile caps applied."""
    return load_sums(
        session,
        inputs.experiment.key,
        inputs.variants,
        inputs.definitions,
        end,
        inputs.selection.cap_percentiles,
    )


def results_from_sums(
    inputs: ResultsInputs,
    sums: ExperimentSums,
    end: datetime,
    computed_at: datetime,
    readings: Callable[[MetricResult], MetricResult] | None = None,
) -> ExperimentResults:
    """Analyse, decide and summarise one look from its per-variant sums.

    `readings`, when given, replaces each metric's result before the decision (the snapshots
    pass the running sequential readings here, so the verdict is taken on them).
    """
    experiment, definitions, variants = inputs.experiment, inputs.definitions, inputs.variants
    selection, aggregates = inputs.selection, sums.aggregates
    primary_definition = definitions[0]
    design = design_as_of(inputs.design, primary_definition, len(variants), end)
    wording = SummaryTerms(experiment.unit_type, design.currency)
    # The plan set at the start, or re-derived once from the observed baseline (`replan`).
    plan_now = plan_facts(design, primary_definition, variants, aggregates)
    plan_now = replace(plan_now, text=plan_sentence(plan_now, wording.unit))
    planned = plan_now.units_per_variant
    options = AnalysisOptions(
        design.alpha, planned_units_per_variant=planned, weights=_weights(experiment)
    )
    results = [
        _configured(
            sums.analyse(definition, role, options, _margin(selection, definition.key, role)),
            selection,
            aggregates,
            wording,
        )
        for definition, role in zip(definitions, inputs.roles, strict=True)
    ]
    if readings is not None:
        results = [readings(result) for result in results]
    srm = _srm(results)
    warnings = _warnings(srm, aggregates)
    primary = results[0]
    guardrails = [result for result in results if result.role == "guardrail"]
    plan = PlanProgress(
        planned,
        min(aggregates.units.values()),
        len(variants),
        _daily_units(experiment, aggregates, end, has_reading=primary.issue is None),
        final=plan_now.final,
    )
    blockers = Blockers(srm.mismatch, aggregates.multi_variant_share)
    decision = decide(primary, guardrails, blockers, plan)
    decision = for_fixed_list(decision, design, primary_definition, primary, experiment, end)
    summary = summarise(decision, primary, guardrails, variants[0], warnings, wording)
    if plan.waits_for_replan and decision.verdict is Verdict.KEEP_RUNNING:
        summary = f"{summary} {plan_now.text}"
    outcome = stop_outcome_of(experiment)
    return ExperimentResults(
        experiment.key,
        experiment.status,
        computed_at,
        end,
        srm,
        warnings,
        tuple(results),
        decision,
        summary_after_stop(summary, outcome),
        sums.source,
        design.currency,
        planned,
        outcome,
        plan_now,
        wording.unit,
    )


def end_of_analysis(experiment: Experiment, as_of: datetime | None, now: datetime) -> datetime:
    """The earliest of now, `as_of` and the stop; ConflictError for an experiment never started."""
    if experiment.status == ExperimentStatus.DRAFT or experiment.started_at is None:
        raise ConflictError(
            f"experiment '{experiment.key}' has not started, so it has no results yet; "
            f"start it with POST /v1/experiments/{experiment.key}/start"
        )
    require_timezone("as_of", as_of)
    end = min(as_of or now, now)
    if experiment.stopped_at is not None:
        end = min(end, experiment.stopped_at)
    return end


def _roles(selection: MetricSelection) -> list[tuple[str, Role]]:
    """(metric key, role) in page order; a key listed twice keeps its first role."""
    seen: dict[str, Role] = {selection.primary: "primary"}
    for key in selection.secondary:
        seen.setdefault(key, "secondary")
    for key in selection.guardrails:
        seen.setdefault(key, "guardrail")
    return list(seen.items())


def _weights(experiment: Experiment) -> tuple[float, ...]:
    return tuple(float(variant["weight"]) for variant in experiment.variants)


def _configured(
    result: MetricResult, selection: MetricSelection, sums: Aggregates, wording: SummaryTerms
) -> MetricResult:
    """The result with the value its percentile cap came to (and that in words)."""
    percentile = selection.cap_percentiles.get(result.metric)
    cap = None
    if percentile is not None:
        cap = PercentileCap(percentile, sums.caps.get(result.metric))
        words = cap_description(cap, wording.unit, result.value_format, wording.currency)
        cap = replace(cap, description=words)
    return replace(result, cap=cap)


def _margin(selection: MetricSelection, key: str, role: Role) -> float | None:
    """A guardrail's relative non-inferiority margin, when it has one."""
    return selection.guardrail_margins.get(key) if role == "guardrail" else None


def _srm(results: list[MetricResult]) -> SrmResult:
    """The sample ratio check of the first metric analysed (all count the same units)."""
    for result in results:
        if result.analysis is not None:
            return result.analysis.srm
    return NO_SRM_CHECK


def _p_text(value: float) -> str:
    """'= 0.003' or '< 0.001', never '4e-05'."""
    text = p_value(value)
    return text if text.startswith("<") else f"= {text}"


def _warnings(srm: SrmResult, aggregates: Aggregates) -> tuple[str, ...]:
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


def _daily_units(
    experiment: Experiment, aggregates: Aggregates, end: datetime, *, has_reading: bool
) -> float | None:
    """Units entering the experiment per day so far (all variants); None (no days-left figure)
    before a day of traffic unless the primary metric already has a reading: one visitor in
    the first minutes is no pace to project from."""
    if experiment.started_at is None:
        return None
    elapsed_days = (end - experiment.started_at).total_seconds() / 86400
    if elapsed_days <= 0 or (elapsed_days < 1 and not has_reading):
        return None
    return aggregates.exposed_units / max(elapsed_days, 1.0)
