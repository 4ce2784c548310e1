"""Entry points: an experiment's full results, and one metric's daily timeseries.

The API and the CLI call these; they read the definition, aggregate in SQL, analyse each metric
with `stats.analyze`, decide and summarise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from experiments.definitions import get_experiment
from experiments.errors import ConflictError, InvalidInputError
from experiments.metrics import MetricDefinition
from experiments.models import Design, Experiment, ExperimentStatus, MetricSelection
from experiments.results.aggregation import Aggregates, VariantSums, aggregate
from experiments.results.catalog import metric_catalog
from experiments.results.decision import Blockers, Plan, decide
from experiments.results.metric_analysis import (
    AnalysisOptions,
    analyse_metric,
    unit_standard_deviation,
    value_of,
)
from experiments.results.summary import summarise
from experiments.results.types import (
    ExperimentResults,
    MetricResult,
    Role,
    Srm,
    Timeseries,
    TimeseriesPoint,
)
from stats import StatsInputError, sample_size

MAX_TIMESERIES_DAYS = 180


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
    aggregates = aggregate(session.connection(), key, inputs.variants, inputs.definitions, end)
    return results_from_aggregates(inputs, aggregates, end, computed_at)


@dataclass(frozen=True, slots=True)
class ResultsInputs:
    """An experiment and its metrics' definitions and roles, in page order (primary first)."""

    experiment: Experiment
    definitions: list[MetricDefinition]
    roles: list[Role]

    @property
    def variants(self) -> list[str]:
        return self.experiment.variant_keys()


def results_inputs(session: Session, experiment: Experiment) -> ResultsInputs:
    """The definitions of the experiment's metrics, read once for any number of looks."""
    roles = _roles(MetricSelection.model_validate(experiment.metrics))
    catalog = metric_catalog(session)
    return ResultsInputs(
        experiment,
        [catalog[metric_key] for metric_key, _ in roles],
        [role for _, role in roles],
    )


def results_from_aggregates(
    inputs: ResultsInputs,
    aggregates: Aggregates,
    end: datetime,
    computed_at: datetime,
    readings: Callable[[MetricResult], MetricResult] | None = None,
) -> ExperimentResults:
    """Analyse, decide and summarise one look from its per-variant sums.

    `readings`, when given, replaces each metric's result before the decision (the snapshots
    pass the running sequential readings here, so the verdict is taken on them).
    """
    experiment, definitions, variants = inputs.experiment, inputs.definitions, inputs.variants
    design = Design.model_validate(experiment.design)
    primary_definition = definitions[0]
    primary_sums = aggregates.metrics[primary_definition.key]
    planned = design.planned_units_per_variant or _planned_units(
        primary_definition, primary_sums[variants[0]], design, len(variants)
    )
    options = AnalysisOptions(design.alpha, _weights(experiment), planned)
    results = [
        analyse_metric(definition, role, aggregates.metrics[definition.key], options)
        for definition, role in zip(definitions, inputs.roles, strict=True)
    ]
    if readings is not None:
        results = [readings(result) for result in results]
    srm = _srm(results)
    warnings = _warnings(srm, aggregates)
    primary = results[0]
    guardrails = [result for result in results if result.role == "guardrail"]
    plan = Plan(
        planned,
        min(aggregates.units.values()),
        len(variants),
        _daily_units(experiment, aggregates, end),
    )
    exposed = aggregates.exposed_units
    share = aggregates.multi_variant_units / exposed if exposed else 0.0
    decision = decide(primary, guardrails, Blockers(srm.mismatch, share), plan)
    summary = summarise(decision, primary, guardrails, variants[0], warnings)
    return ExperimentResults(
        experiment.key,
        experiment.status,
        computed_at,
        end,
        srm,
        warnings,
        tuple(results),
        decision,
        summary,
    )


def compute_timeseries(
    session: Session, key: str, metric: str, now: datetime | None = None
) -> Timeseries:
    """Cumulative daily results of one of the experiment's metrics, one point per UTC day.

    Each point counts the events up to the end of its day (the last point up to now or the
    stop); at most the last MAX_TIMESERIES_DAYS days are returned.
    """
    current = now or datetime.now(UTC)
    experiment = get_experiment(session, key)
    end = end_of_analysis(experiment, None, current)
    roles = dict(_roles(MetricSelection.model_validate(experiment.metrics)))
    if metric not in roles:
        raise InvalidInputError(
            "metric",
            f"'{metric}' is not a metric of experiment '{key}'; use one of: " + ", ".join(roles),
        )
    definition = metric_catalog(session)[metric]
    design = Design.model_validate(experiment.design)
    options = AnalysisOptions(design.alpha, _weights(experiment), design.planned_units_per_variant)
    start = experiment.started_at or end
    days = (end.date() - start.date()).days + 1
    points = []
    connection = session.connection()
    for offset in range(max(days - MAX_TIMESERIES_DAYS, 0), days):
        day = start.date() + timedelta(days=offset)
        cutoff = min(datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1), end)
        sums = aggregate(connection, key, experiment.variant_keys(), [definition], cutoff)
        result = analyse_metric(definition, roles[metric], sums.metrics[metric], options)
        points.append(TimeseriesPoint(day.isoformat(), cutoff, result))
    return Timeseries(key, metric, definition.kind, definition.direction, tuple(points))


def end_of_analysis(experiment: Experiment, as_of: datetime | None, now: datetime) -> datetime:
    """The earliest of now, `as_of` and the stop; ConflictError for an experiment never started."""
    if experiment.status == ExperimentStatus.DRAFT or experiment.started_at is None:
        raise ConflictError(
            f"experiment '{experiment.key}' has not started, so it has no results yet; "
            f"start it with POST /v1/experiments/{experiment.key}/start"
        )
    if as_of is not None and as_of.tzinfo is None:
        raise InvalidInputError("as_of", "must include a timezone, e.g. 2026-03-01T12:00:00Z")
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


def _planned_units(
    metric: MetricDefinition, control_sums: VariantSums, design: Design, variants: int
) -> int | None:
    """Units per variant for the design's power at its MDE, from the observed control value."""
    baseline = value_of(metric, control_sums)
    if baseline is None or baseline <= 0:
        return None
    try:
        if metric.kind == "conversion":
            if baseline >= 1:
                return None
            planned = sample_size(
                mde_relative=design.mde_relative,
                baseline_rate=baseline,
                alpha=design.alpha,
                power=design.power,
                variants=variants,
            )
        else:
            spread = unit_standard_deviation(metric, control_sums)
            if not spread:
                return None
            planned = sample_size(
                mde_relative=design.mde_relative,
                baseline_mean=baseline,
                baseline_sd=spread,
                alpha=design.alpha,
                power=design.power,
                variants=variants,
            )
    except StatsInputError:
        return None
    return max(planned.units_per_variant, 2)


def _srm(results: list[MetricResult]) -> Srm:
    for result in results:
        if result.analysis is not None:
            check = result.analysis.srm
            return Srm(check.p_value, check.mismatch)
    return Srm(None, False)


def _warnings(srm: Srm, aggregates: Aggregates) -> tuple[str, ...]:
    warnings = []
    if srm.mismatch:
        warnings.append(
            "Warning: the units are not split between the variants as designed (sample ratio "
            f"mismatch, p = {srm.p_value:.2g}); the results cannot be trusted until the cause "
            "is found."
        )
    if aggregates.multi_variant_units:
        share = aggregates.multi_variant_units / aggregates.exposed_units
        warnings.append(
            f"Warning: {aggregates.multi_variant_units} units ({share:.1%}) saw more than one "
            "variant and were left out."
        )
    return tuple(warnings)


def _daily_units(experiment: Experiment, aggregates: Aggregates, end: datetime) -> float | None:
    """Units entering the experiment per day so far (all variants), or None before a day."""
    if experiment.started_at is None:
        return None
    elapsed_days = (end - experiment.started_at).total_seconds() / 86400
    if elapsed_days <= 0:
        return None
    return aggregates.exposed_units / max(elapsed_days, 1.0)
