"""What a look reads besides the events: the experiment, its metrics in page order, the design,
and the moment the look ends.

Read once per call, for any number of looks (a first look's backfill takes many).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from experiments.bandit_periods import periods_of
from experiments.errors import ConflictError
from experiments.inputs import require_timezone
from experiments.metrics import metric_catalog
from experiments.models.experiment import Design, Experiment, ExperimentStatus, MetricSelection
from experiments.models.metric import MetricDefinition
from experiments.results.types import Role


@dataclass(frozen=True, slots=True)
class SteeredPeriod:
    """One update period of a bandit as stored (`models.bandit.BanditPeriod`): its number,
    start, the weights served in it (variant key -> share) and the seed they were drawn with
    (None: the exploration's equal weights)."""

    number: int
    starts_at: datetime
    weights: dict[str, float]
    seed: int | None
    look: int | None


@dataclass(frozen=True, slots=True)
class LookInputs:
    """An experiment, its metric selection, its metrics' definitions and roles in page
    order (primary first), and for a bandit its update periods so far."""

    experiment: Experiment
    selection: MetricSelection
    definitions: list[MetricDefinition]
    roles: list[Role]
    design: Design
    """The experiment's design; a look that re-plans passes its re-planned design on."""
    periods: tuple[SteeredPeriod, ...] = ()

    def period_starts(self, end: datetime) -> list[datetime]:
        """The starts of the update periods after the first that began by `end`: the
        boundaries the sums group a bandit's units by (none for an A/B test)."""
        return [period.starts_at for period in self.periods[1:] if period.starts_at <= end]

    @property
    def variants(self) -> list[str]:
        return self.experiment.variant_keys()

    @property
    def primary(self) -> MetricDefinition:
        return self.definitions[0]


def look_inputs(session: Session, experiment: Experiment) -> LookInputs:
    """The definitions of the experiment's metrics, read once for any number of looks."""
    selection = experiment.metrics
    roles = _roles(selection)
    catalog = metric_catalog(session)
    periods = tuple(
        SteeredPeriod(row.period, row.starts_at, dict(row.weights), row.seed, row.look)
        for row in periods_of(session, experiment.key)
    )
    return LookInputs(
        experiment,
        selection,
        [catalog[metric_key] for metric_key, _ in roles],
        [role for _, role in roles],
        experiment.design,
        periods,
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
