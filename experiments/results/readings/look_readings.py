"""Stage 2 of a look: every metric's readings from the look's sums, in page order.

The metrics are analysed together by `stats.analyze_many` (`sums.sum_sources.ExperimentSums
.analyse`) with the look's planned units tuning the sequential test, a guardrail with its
margin, and a capped metric with the value its percentile cap came to.
"""

from __future__ import annotations

from dataclasses import replace

from experiments.models.experiment import Design, Experiment, MetricSelection
from experiments.results.look_inputs import LookInputs
from experiments.results.sums.aggregation import Aggregates
from experiments.results.sums.sum_sources import ExperimentSums
from experiments.results.types import NO_SRM_CHECK, MetricResult, PercentileCap, Role
from experiments.results.words.caps import cap_description
from experiments.results.words.summary_sentence import SummaryTerms
from stats import AnalysisOptions, SrmResult


def analyse(
    inputs: LookInputs,
    sums: ExperimentSums,
    design: Design,
    planned: int | None,
    terms: SummaryTerms,
) -> list[MetricResult]:
    """Each metric's result at this look, primary first (`terms` word a percentile cap)."""
    options = AnalysisOptions(
        design.alpha, planned_units_per_variant=planned, weights=_weights(inputs.experiment)
    )
    selection = inputs.selection
    metrics = [
        (definition, role, _margin(selection, definition.key, role))
        for definition, role in zip(inputs.definitions, inputs.roles, strict=True)
    ]
    return [
        _capped(result, selection, sums.aggregates, terms)
        for result in sums.analyse(metrics, options)
    ]


def srm_of(results: list[MetricResult]) -> SrmResult:
    """The sample ratio check of the first metric analysed (all count the same units)."""
    for result in results:
        if result.analysis is not None:
            return result.analysis.srm
    return NO_SRM_CHECK


def _weights(experiment: Experiment) -> tuple[float, ...]:
    return tuple(float(variant["weight"]) for variant in experiment.variants)


def _capped(
    result: MetricResult, selection: MetricSelection, sums: Aggregates, terms: SummaryTerms
) -> MetricResult:
    """The result with the value its percentile cap came to (and that in words)."""
    percentile = selection.cap_percentiles.get(result.metric)
    cap = None
    if percentile is not None:
        cap = PercentileCap(percentile, sums.caps.get(result.metric))
        words = cap_description(cap, terms.unit, result.value_format, terms.currency)
        cap = replace(cap, description=words)
    return replace(result, cap=cap)


def _margin(selection: MetricSelection, key: str, role: Role) -> float | None:
    """A guardrail's relative non-inferiority margin, when it has one."""
    return selection.guardrail_margins.get(key) if role == "guardrail" else None
