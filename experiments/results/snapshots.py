"""Looks: results snapshots taken, stored and served.

A look is the results page of an experiment at one moment, stored with the per-variant sums it
was computed from (`ResultSnapshot`). Its sequential readings are *running* readings (the
minimum p-value and the intersection of the confidence sequences of all looks so far, see
`running`), and its verdict is taken on them. The first look of an experiment whose events span
several days backfills one look per UTC day boundary since the first exposure, from one pass
over the events (`backfill`). Every new look is handed, with the facts of the previous one, to
the `on_new_look` its caller passes (the scheduler, the routes and the CLI pass the webhooks'
`queue_look_alerts`): results never call the webhooks themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from experiments.definitions import get_experiment
from experiments.errors import InvalidInputError
from experiments.models.experiment import Design, Experiment, ExperimentStatus
from experiments.models.snapshot import ResultSnapshot
from experiments.pasted_counts import latest_counts
from experiments.results.alerts import LookFacts, NewLook
from experiments.results.compute import (
    ResultsInputs,
    end_of_analysis,
    load_experiment_sums,
    results_from_sums,
    results_inputs,
)
from experiments.results.page import ResultsPage, Timeseries, TimeseriesPoint
from experiments.results.readings.running import RunningReadingsOf, stored_readings
from experiments.results.render import results_page
from experiments.results.sums.aggregation import Aggregates
from experiments.results.sums.backfill import daily_aggregates
from experiments.results.sums.look_ends import day_ends, first_exposure_at, look_day
from experiments.results.sums.stored_sums import sums_json
from experiments.results.sums.sum_sources import ExperimentSums
from experiments.results.verdict.replan import replan_due, replanned, store_replan
from experiments.results.words.headline import with_headline

MAX_TIMESERIES_DAYS = 180  # days a timeseries shows, and looks a first backfill takes
MAX_BACKFILLED_LOOKS = MAX_TIMESERIES_DAYS

# Hears each new look in the session (and transaction) that stored it.
NewLookHandler = Callable[[Session, NewLook], None]


def latest_snapshot(session: Session, key: str) -> ResultSnapshot | None:
    query = (
        select(ResultSnapshot)
        .where(ResultSnapshot.experiment == key)
        .order_by(col(ResultSnapshot.look).desc())
        .limit(1)
    )
    return session.exec(query).first()


def stored_page(snapshot: ResultSnapshot) -> ResultsPage:
    """The page a look stored (a look stored by an older version loads too)."""
    return ResultsPage.model_validate(snapshot.results)


def take_snapshot(
    session: Session,
    key: str,
    now: datetime | None = None,
    *,
    on_new_look: NewLookHandler | None = None,
) -> ResultSnapshot:
    """Take, store and return a new look of experiment `key` (with the backfill on the first),
    then hand it to `on_new_look`.

    A stopped experiment whose final look is stored gets no new one: that look is returned, as
    is a look another process stored meanwhile; `on_new_look` hears neither.
    Raises NotFoundError for an unknown key and ConflictError for a draft.
    """
    computed_at = now or datetime.now(UTC)
    experiment = get_experiment(session, key)
    end = end_of_analysis(experiment, None, computed_at)
    if replan_due(experiment.design, experiment.started_at, end):
        # Two processes may take this look: the one that waits reads the plan the other stored
        # (and its look), so the plan is re-derived once (SQLite serialises writers anyway).
        session.refresh(experiment, with_for_update=True)
    latest = latest_snapshot(session, key)
    if latest is not None and _is_final(latest, experiment):
        return latest
    inputs = results_inputs(session, experiment)
    ends, looks = _new_looks(session, inputs, latest, end)
    previous_page = None if latest is None else stored_page(latest)
    number = 0 if latest is None else latest.look
    rows = []
    replan: Design | None = None
    for look_end, sums in zip(ends, looks, strict=True):
        number += 1
        if replan is None:
            replan = _replanned(inputs, sums, look_end)
            inputs = inputs if replan is None else replace(inputs, design=replan)
        readings = RunningReadingsOf(stored_readings(previous_page), look_end)
        results = results_from_sums(inputs, sums, look_end, computed_at, readings)
        page = results_page(results).model_copy(update={"look": number})
        facts = LookFacts.of(results, sums.aggregates)
        rows.append(
            ResultSnapshot(
                experiment=key,
                look=number,
                computed_at=computed_at,
                as_of=look_end,
                verdict=results.decision.verdict.value,
                results=page.as_json(),
                sums=_sums_json(sums.aggregates, facts),
            )
        )
        previous_page = page
    try:
        with session.begin_nested():
            if replan is not None:
                store_replan(session, experiment, replan)
            session.add_all(rows)
    except IntegrityError:
        # Another process stored this look number first; its look is as new as ours.
        stored = latest_snapshot(session, key)
        if stored is None:
            raise
        return stored
    newest = rows[-1]
    if on_new_look is not None:
        previous = None if latest is None else LookFacts.from_dict(latest.sums["facts"])
        on_new_look(session, NewLook(newest, previous))
    return newest


def serve_results(
    session: Session,
    key: str,
    max_age: timedelta,
    *,
    fresh: bool = False,
    now: datetime | None = None,
    on_new_look: NewLookHandler | None = None,
) -> ResultsPage:
    """The results page of the latest look, taking a new look first when `fresh` is asked
    for or the latest is older than `max_age` (or predates the stop); `on_new_look` hears it."""
    moment = now or datetime.now(UTC)
    experiment = get_experiment(session, key)
    end_of_analysis(experiment, None, moment)  # a draft has no results
    latest = latest_snapshot(session, key)
    if (
        fresh
        or latest is None
        or not (_is_final(latest, experiment) or latest.computed_at >= moment - max_age)
    ):
        latest = take_snapshot(session, key, moment, on_new_look=on_new_look)
    served = stored_page(latest).model_copy(update={"status": str(experiment.status)})
    return with_headline(served)


def results_as_of(
    session: Session, key: str, as_of: datetime, now: datetime | None = None
) -> ResultsPage:
    """The page counting events up to `as_of`, computed now (not stored), with the running
    readings of the stored looks up to that moment."""
    moment = now or datetime.now(UTC)
    experiment = get_experiment(session, key)
    end = end_of_analysis(experiment, as_of, moment)
    inputs = results_inputs(session, experiment)
    earlier = session.exec(
        select(ResultSnapshot)
        .where(ResultSnapshot.experiment == key, col(ResultSnapshot.as_of) <= end)
        .order_by(col(ResultSnapshot.look).desc())
        .limit(1)
    ).first()
    previous = None if earlier is None else stored_page(earlier)
    readings = RunningReadingsOf(stored_readings(previous), end)
    sums = load_experiment_sums(session, inputs, end)
    page = results_page(results_from_sums(inputs, sums, end, moment, readings))
    return page.model_copy(update={"look": None if earlier is None else earlier.look})


def stored_timeseries(
    session: Session,
    key: str,
    metric: str,
    now: datetime | None = None,
    *,
    on_new_look: NewLookHandler | None = None,
) -> Timeseries:
    """One metric over the stored looks: the last look of each UTC day, at most the last
    MAX_TIMESERIES_DAYS days (taking the first look, with its backfill, when none is stored;
    `on_new_look` hears it)."""
    experiment = get_experiment(session, key)
    inputs = results_inputs(session, experiment)
    definition = next((d for d in inputs.definitions if d.key == metric), None)
    if definition is None:
        raise InvalidInputError(
            "metric",
            f"'{metric}' is not a metric of experiment '{key}'; use one of: "
            + ", ".join(d.key for d in inputs.definitions),
        )
    pages = look_history(session, key)
    if not pages:
        take_snapshot(session, key, now, on_new_look=on_new_look)
        return stored_timeseries(session, key, metric, now)
    return Timeseries(
        experiment=key,
        metric=metric,
        kind=definition.kind,
        direction=definition.direction,
        points=[_point(page, metric) for page in pages],
    )


def look_history(session: Session, key: str) -> list[ResultsPage]:
    """The pages of the last stored look of each UTC day, oldest first, at most the last
    MAX_TIMESERIES_DAYS days (the timeseries and the web page's charts read these)."""
    looks = session.exec(
        select(ResultSnapshot.id, ResultSnapshot.as_of)
        .where(ResultSnapshot.experiment == key)
        .order_by(col(ResultSnapshot.look))
    ).all()
    last_of_day: dict[str, int] = {}
    for snapshot_id, as_of in looks:
        last_of_day[look_date(as_of)] = snapshot_id or 0
    chosen = list(last_of_day.values())[-MAX_TIMESERIES_DAYS:]
    if not chosen:
        return []
    pages = session.exec(
        select(ResultSnapshot.results)
        .where(col(ResultSnapshot.id).in_(chosen))
        .order_by(col(ResultSnapshot.look))
    ).all()
    return [ResultsPage.model_validate(page) for page in pages]


def look_date(as_of: datetime) -> str:
    """The UTC day a look covers (`look_ends.look_day`), as an ISO date."""
    return look_day(as_of).isoformat()


def _point(page: ResultsPage, metric: str) -> TimeseriesPoint:
    entry = next(m for m in page.metrics if m.metric == metric)
    return TimeseriesPoint(
        date=look_day(page.as_of),
        as_of=page.as_of,
        look=page.look,
        computed_at=page.computed_at,
        variants=entry.variants,
        comparisons=entry.comparisons,
        reason=entry.reason,
    )


def _new_looks(
    session: Session, inputs: ResultsInputs, latest: ResultSnapshot | None, end: datetime
) -> tuple[list[datetime], list[ExperimentSums]]:
    """The ends of the looks to take now and their sums: one look, or the backfill."""
    connection = session.connection()
    key, variants, metrics = inputs.experiment.key, inputs.variants, inputs.definitions
    if latest is None:
        pasted = latest_counts(session, key, end) is not None
        # Pasted counts have no exposures: their history starts at the send (the start).
        first = inputs.experiment.started_at if pasted else first_exposure_at(connection, key, end)
        ends = [end] if first is None else day_ends(first, end, MAX_BACKFILLED_LOOKS)
        # The one pass gives every look's event sums, but not a percentile cap that moves with
        # each look's units nor pasted totals: those looks are each loaded on their own.
        if len(ends) > 1 and not pasted and not inputs.selection.cap_percentiles:
            daily = daily_aggregates(connection, key, variants, metrics, ends)
            return ends, [ExperimentSums(aggregates, "events") for aggregates in daily]
        if len(ends) > 1:
            return ends, [load_experiment_sums(session, inputs, look_end) for look_end in ends]
    return [end], [load_experiment_sums(session, inputs, end)]


def _replanned(inputs: ResultsInputs, sums: ExperimentSums, end: datetime) -> Design | None:
    """The design re-planned at the look ending at `end`, or None (`replan.replanned`)."""
    experiment = inputs.experiment
    return replanned(
        inputs.design,
        inputs.definitions[0],
        inputs.variants,
        sums.aggregates,
        experiment.started_at,
        end,
    )


def _is_final(snapshot: ResultSnapshot, experiment: Experiment) -> bool:
    """Whether a look already counts everything a stopped experiment will ever count."""
    stopped = experiment.stopped_at
    return (
        experiment.status != ExperimentStatus.RUNNING.value
        and stopped is not None
        and snapshot.as_of >= stopped
    )


def _sums_json(aggregates: Aggregates, facts: LookFacts) -> dict[str, Any]:
    return {**sums_json(aggregates), "facts": facts.to_dict()}
