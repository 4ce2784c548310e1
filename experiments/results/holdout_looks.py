"""A holdout's looks, taken by the experiments' own pipeline.

A holdout is presented to the pipeline as a two-variant experiment (`as_experiment`): its key,
the variants `holdout` (the control, the baseline) and `measurement` weighted 1:1, its metrics
(the first as the primary), its unit type, started when the holdout was created and stopped at
its stop or `ends_at`, with a plan of the units each group was expected to reach. Its
exposures are the holdout exposures the SDKs log, stored under the holdout's key, so the same
sums, sequential readings, CUPED, SRM check and gates apply, cumulative since the holdout began;
its looks are stored and served like an experiment's (`snapshots`). Nothing here is a second
engine: only the summary (`words.holdout_words`) is the holdout's own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from experiments.holdout_power import Traffic, power_facts
from experiments.holdouts import covered_experiments, end_of, get_holdout, status_of
from experiments.models.experiment import (
    Design,
    Experiment,
    ExperimentStatus,
    MetricSelection,
)
from experiments.models.holdout import (
    HOLDOUT_GROUP,
    MEASUREMENT_GROUP,
    Holdout,
    HoldoutPower,
    HoldoutStatus,
)
from experiments.models.snapshot import ResultSnapshot
from experiments.results.holdout_page import GroupUnits, HoldoutResultsPage
from experiments.results.page import ResultsPage
from experiments.results.snapshots import served_snapshot, stored_page, take_look
from experiments.results.words.holdout_words import holdout_summary, power_text, split_sentence


def as_experiment(holdout: Holdout, now: datetime) -> Experiment:
    """The holdout as the pipeline reads an experiment (never stored: see the module)."""
    running = status_of(holdout, now) == HoldoutStatus.RUNNING
    group = {"weight": 1, "payload": None}
    return Experiment(
        key=holdout.key,
        salt=holdout.salt,
        name=holdout.name,
        unit_type=holdout.unit_type,
        variants=[
            {"key": HOLDOUT_GROUP, "name": "Holdout", **group},
            {"key": MEASUREMENT_GROUP, "name": "Measurement", **group},
        ],
        design=Design(
            planned_units_per_variant=holdout.planned_units_per_group, planned_from="design"
        ),
        metrics=MetricSelection(primary=holdout.metrics[0], secondary=holdout.metrics[1:]),
        status=(ExperimentStatus.RUNNING if running else ExperimentStatus.STOPPED).value,
        created_at=holdout.created_at,
        updated_at=holdout.updated_at,
        started_at=holdout.created_at,
        stopped_at=None if running else end_of(holdout),
    )


def take_holdout_look(session: Session, key: str, now: datetime | None = None) -> ResultSnapshot:
    """Take and store a new look of holdout `key` (the first with its daily backfill); an
    ended or stopped holdout's final look is returned as stored. No webhook hears it."""
    moment = now or datetime.now(UTC)
    holdout = get_holdout(session, key)
    return take_look(session, as_experiment(holdout, moment), moment, on_new_look=None)


def serve_holdout_results(
    session: Session,
    key: str,
    max_age: timedelta,
    *,
    fresh: bool = False,
    now: datetime | None = None,
    traffic: Callable[[Holdout], Traffic] | None = None,
) -> HoldoutResultsPage:
    """The holdout's results from its latest look, taking a new one first when `fresh` is
    asked for or the latest is older than `max_age` (as an experiment's results are served);
    its power at `traffic(holdout)` (the process's kept figures), measured now without it."""
    moment = now or datetime.now(UTC)
    holdout = get_holdout(session, key)
    experiment = as_experiment(holdout, moment)
    snapshot = served_snapshot(session, experiment, max_age, fresh, moment, None)
    pace = None if traffic is None else traffic(holdout)
    return holdout_results(session, holdout, stored_page(snapshot), moment, pace)


def holdout_results(
    session: Session,
    holdout: Holdout,
    look: ResultsPage,
    now: datetime,
    traffic: Traffic | None = None,
) -> HoldoutResultsPage:
    """The holdout's page of one look: its effect, its split, what shipped, and its power (at
    `traffic`, measured now when None)."""
    primary = look.metrics[0]
    comparison = primary.comparison_of(MEASUREMENT_GROUP)
    effect = None if comparison is None else comparison.sequential.relative
    units = {value.key: value.n for value in primary.variants}
    groups = GroupUnits(
        holdout=units.get(HOLDOUT_GROUP, 0), measurement=units.get(MEASUREMENT_GROUP, 0)
    )
    shipped = shipped_since(session, holdout, look.as_of)
    confidence = 1 - Design().alpha
    summary = " ".join(
        [
            holdout_summary(
                len(shipped), holdout.created_at, look.as_of, primary.name, effect, confidence
            ),
            split_sentence(groups.holdout, groups.measurement, look.srm),
        ]
    )
    status = status_of(holdout, now)
    so_far = min(groups.holdout, groups.measurement)
    return HoldoutResultsPage(
        holdout=holdout.key,
        name=holdout.name,
        status=status.value,
        began_at=holdout.created_at,
        ends_at=end_of(holdout),
        share=holdout.share,
        metric=primary.metric,
        shipped=shipped,
        covered=[experiment.key for experiment in covered_experiments(session, holdout)],
        effect=effect,
        confidence=confidence,
        units=groups,
        srm=look.srm,
        summary=summary,
        power=power_of(session, holdout, now, so_far, traffic),
        look=look.model_copy(update={"summary": summary, "headline": None}),
    )


def shipped_since(session: Session, holdout: Holdout, end: datetime) -> list[str]:
    """Covered experiments stopped with a winner other than their control between the
    holdout's start and `end`."""
    covered = [experiment.key for experiment in covered_experiments(session, holdout)]
    stopped = session.exec(
        select(Experiment)
        .where(
            col(Experiment.key).in_(covered),
            Experiment.status == ExperimentStatus.STOPPED.value,
            col(Experiment.stopped_at) >= holdout.created_at,
            col(Experiment.stopped_at) <= end,
        )
        .order_by(col(Experiment.stopped_at))
    )
    return [e.key for e in stopped if e.winner is not None and e.winner != e.variant_keys()[0]]


def power_of(
    session: Session,
    holdout: Holdout,
    now: datetime,
    units_so_far: int = 0,
    traffic: Traffic | None = None,
) -> HoldoutPower:
    """What the share detects by the holdout's end: the units so far and the traffic to come
    (`traffic`, measured now when None)."""
    facts = power_facts(
        session, holdout.metrics[0], holdout.share, end_of(holdout), now, units_so_far, traffic
    )
    return HoldoutPower(
        metric=facts.metric,
        visitors_per_day=facts.visitors_per_day,
        days=facts.days,
        units_per_group=facts.units_per_group,
        baseline=facts.baseline,
        baseline_from=facts.baseline_from,
        detectable_change=facts.detectable_change,
        text=power_text(facts),
    )
