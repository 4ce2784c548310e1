"""A look's results broken down by one dimension: per level, the units per variant, the level's
sample ratio check and every metric's readings, from the look's stored per-level sums.

Each level is analysed by the same engine as the whole (`stats.analyze_many` through
`readings.metric_analysis.analyse_metrics`, all levels and metrics at once), with the same
minimum-data gates. The comparisons of one breakdown form one family, levels x arms x metrics
(GrowthBook's), corrected together:

- fixed-horizon p-values with the experiment's correction (Holm, as the whole's arms); the
  intervals are the analysis's, at about the Bonferroni level alpha / family, except where
  that would disagree with the adjusted p-value: those at the level that agrees with it
  (`stats.corrections.interval_level`), so an interval excludes 0 exactly when the adjusted
  p-value is below alpha;
- the sequential reading by Bonferroni over the family (the mixture at alpha / family, its
  adjusted p-value family x p), as the whole's arms are;
- the Bayesian reading as it is (it does not depend on alpha).

A level's reading is the reading at this look, not a running one over the looks. Every reading
is exploratory: it never enters the verdict (`EXPLORATORY`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from experiments.models.experiment import Experiment
from experiments.models.metric import MetricDefinition
from experiments.results.look_inputs import LookInputs
from experiments.results.page import LevelPage, SegmentsPage, SrmPage
from experiments.results.readings.look_readings import srm_of
from experiments.results.readings.metric_analysis import (
    MetricSums,
    analyse_metrics,
    stats_inputs,
)
from experiments.results.render import metric_page
from experiments.results.sums.groups import Aggregates, VariantSums
from experiments.results.sums.sum_sources import denominators
from experiments.results.types import MetricResult
from stats import AnalysisOptions, Comparison, Correction, Interval, analyze_stats
from stats.corrections import adjust, interval_level

EXPLORATORY = (
    "Exploratory: for new hypotheses, not for the ship decision. The verdict is read on all "
    "units; a segment never changes it."
)


@dataclass(frozen=True, slots=True)
class BreakdownTerms:
    """What a breakdown's readings are tuned by: the look's alpha, planned units per variant and
    variant weights (the SRM check), and the experiment's correction."""

    alpha: float
    planned_units_per_variant: int | None
    weights: tuple[float, ...]
    correction: Correction = Correction.HOLM


def breakdown_terms(inputs: LookInputs, planned: int | None) -> BreakdownTerms:
    experiment: Experiment = inputs.experiment
    weights = tuple(float(variant["weight"]) for variant in experiment.variants)
    return BreakdownTerms(inputs.design.alpha, planned, weights)


def segments_page(
    inputs: LookInputs, aggregates: Aggregates, dimension: str, terms: BreakdownTerms
) -> SegmentsPage:
    """The breakdown of a look by `dimension` (a dimension of the experiment; no levels when
    the look has no sums of it: looks stored before it was named)."""
    # A quantile is not summed per level: the breakdown reads the summed metrics only.
    kept = [
        (definition, role)
        for definition, role in zip(inputs.definitions, inputs.roles, strict=True)
        if definition.kind != "quantile"
    ]
    inputs = replace(inputs, definitions=[d for d, _ in kept], roles=[r for _, r in kept])
    levels = aggregates.levels(dimension)
    arms = len(inputs.variants) - 1
    family = max(1, len(levels) * arms * len(inputs.definitions))
    # Each analysis holds all arms: stats runs the mixture at alpha / arms, so at alpha / family.
    options = AnalysisOptions(
        terms.alpha * arms / family,
        planned_units_per_variant=terms.planned_units_per_variant,
        weights=terms.weights,
        correction=terms.correction,
    )
    readings = _readings(inputs, levels, options)
    corrected = _corrected(readings, levels, inputs.definitions, terms, family)
    return SegmentsPage(
        dimension=dimension,
        dimensions=list(inputs.experiment.dimensions),
        exploratory=True,
        note=EXPLORATORY,
        correction=str(terms.correction),
        family=family,
        levels=[
            LevelPage(
                level=level,
                units=levels[level].units,
                srm=SrmPage.model_validate(srm_of(results).to_dict()),
                metrics=[metric_page(result) for result in results],
            )
            for level, results in corrected.items()
        ],
    )


_LEAST = 1e-12


def _readings(
    inputs: LookInputs, levels: dict[str, Aggregates], options: AnalysisOptions
) -> dict[str, list[MetricResult]]:
    """Every metric in every level, read as the whole's are (`sum_sources.ExperimentSums
    .analyse`: all at once, with their value format and a ratio's denominators; no guardrail
    margin, which is the verdict's)."""
    metrics = list(zip(inputs.definitions, inputs.roles, strict=True))
    cells = [
        MetricSums(definition, role, sums.metrics[definition.key])
        for sums in levels.values()
        for definition, role in metrics
    ]
    read = iter(analyse_metrics(cells, options))
    return {
        level: [
            replace(
                next(read),
                value_format=definition.value_format,
                denominators=denominators(definition, sums.metrics[definition.key]),
            )
            for definition, _ in metrics
        ]
        for level, sums in levels.items()
    }


Located = tuple[str, int, int]
"""A comparison's place: the level, the metric's index, the comparison's index."""


def _corrected(
    readings: dict[str, list[MetricResult]],
    levels: dict[str, Aggregates],
    definitions: list[MetricDefinition],
    terms: BreakdownTerms,
    family: int,
) -> dict[str, list[MetricResult]]:
    """The readings with every comparison corrected over the breakdown's family."""
    places: list[Located] = []
    for level, results in readings.items():
        for index, result in enumerate(results):
            if result.analysis is not None:
                places += [(level, index, n) for n in range(len(result.analysis.comparisons))]
    p_values = [_comparison(readings, place).p_value for place in places]
    adjusted = dict(zip(places, adjust(p_values, terms.correction), strict=True))
    corrected: dict[str, list[MetricResult]] = {}
    for level, results in readings.items():
        corrected[level] = []
        for index, result in enumerate(results):
            analysis = result.analysis
            if analysis is None:
                corrected[level].append(result)
                continue
            sums = levels[level].metrics[result.metric]
            comparisons = tuple(
                _family_reading(
                    comparison, adjusted[(level, index, n)], terms, family, definitions[index], sums
                )
                for n, comparison in enumerate(analysis.comparisons)
            )
            corrected[level].append(
                replace(result, analysis=replace(analysis, comparisons=comparisons))
            )
    return corrected


def _comparison(readings: dict[str, list[MetricResult]], place: Located) -> Comparison:
    level, index, number = place
    analysis = readings[level][index].analysis
    if analysis is None:  # places are only taken of analysed metrics
        raise ValueError(f"no analysis at {place}")
    return analysis.comparisons[number]


def _family_reading(
    comparison: Comparison,
    p_adjusted: float | None,
    terms: BreakdownTerms,
    family: int,
    definition: MetricDefinition,
    sums: dict[str, VariantSums],
) -> Comparison:
    """One comparison as a member of the breakdown's family (see the module's docstring)."""
    if comparison.p_value is None or p_adjusted is None:
        return comparison
    sequential = comparison.sequential
    if sequential.p_value is not None:
        sequential_adjusted = min(1.0, family * sequential.p_value)
        sequential = replace(
            sequential,
            p_value_adjusted=sequential_adjusted,
            significant=sequential_adjusted < terms.alpha,
        )
    # Intervals at the level that agrees with the adjusted p-value (a p-value so small that
    # the level underflows keeps the bound of 1e-12).
    significant = p_adjusted < terms.alpha
    corrected = replace(
        comparison, p_value_adjusted=p_adjusted, significant=significant, sequential=sequential
    )
    if _excludes_zero(comparison.absolute) == significant:
        return corrected
    # The analysis's interval is at about the Bonferroni level alpha / family; where Holm's
    # p-value decides otherwise, the interval at the level that agrees with it.
    level = max(interval_level(terms.alpha, comparison.p_value, p_adjusted, family), _LEAST)
    pair = {key: sums[key] for key in (comparison.baseline, comparison.variant)}
    fixed = analyze_stats(stats_inputs(definition, pair), AnalysisOptions(level)).comparisons[0]
    return replace(corrected, absolute=fixed.absolute, relative=fixed.relative)


def _excludes_zero(interval: Interval) -> bool:
    low, high = interval.ci_low, interval.ci_high
    return (low is not None and low > 0) or (high is not None and high < 0)
