"""Looks stored and served: their numbers, their rows, and the race of two processes taking one.

A look is the results page of an experiment at one moment, stored with the per-variant sums it
was computed from (`ResultSnapshot`). `pipeline` makes the looks (the first with its backfill,
each with the running readings of the ones before); this module numbers and stores them, and
serves the newest. Every new look is handed, with the facts of the previous one, to the
`on_new_look` its caller passes (the scheduler, the routes and the CLI pass the webhooks'
`queue_look_alerts`): results never call the webhooks themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Result
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from experiments.bandit_periods import open_period
from experiments.definitions import get_experiment
from experiments.errors import InvalidInputError
from experiments.models.experiment import Experiment, ExperimentStatus
from experiments.models.snapshot import ResultSnapshot
from experiments.results.alerts import LookFacts, NewLook
from experiments.results.look_inputs import end_of_analysis, look_inputs
from experiments.results.page import LookKindPage, ResultsPage
from experiments.results.pipeline import Look, make_look, new_looks
from experiments.results.readings.running import stored_readings
from experiments.results.readings.segment_tests import stored_findings
from experiments.results.sums.look_basis import FULL_LOOK_EVERY
from experiments.results.sums.look_ends import look_day
from experiments.results.sums.look_sums import MAX_BACKFILLED_LOOKS, read_sums
from experiments.results.sums.quantiles import quantiles_json
from experiments.results.sums.stored_sums import sums_json
from experiments.results.timeseries_page import Timeseries, TimeseriesPoint
from experiments.results.verdict.replan import replan_due, store_replan
from experiments.results.words.headline import with_headline

MAX_TIMESERIES_DAYS = MAX_BACKFILLED_LOOKS  # days a timeseries shows

# Hears each new look in the session (and transaction) that stored it.
NewLookHandler = Callable[[Session, NewLook], None]


LOOK_ATTEMPTS = 3
"""How many times `take_look` computes a look when other processes keep storing older ones first."""


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
    on_new_look: NewLookHandler | None,
    full_look_every: timedelta = FULL_LOOK_EVERY,
) -> ResultSnapshot:
    """Take, store and return a new look of experiment `key` (with the backfill on the first),
    then hand it to `on_new_look` (required: a caller that wants no alerts passes None).
    The look starts from the latest stored look's sums unless it must be a full one; a full
    one is taken at least every `full_look_every` (`look_sums.sums_of_new_looks`).

    A stopped experiment whose final look is stored gets no new one: that look is returned, as
    is a look another process stored meanwhile; `on_new_look` hears neither.
    Raises NotFoundError for an unknown key and ConflictError for a draft.
    """
    experiment = get_experiment(session, key)
    return take_look(
        session, experiment, now, on_new_look=on_new_look, full_look_every=full_look_every
    )


def take_look(
    session: Session,
    experiment: Experiment,
    now: datetime | None = None,
    *,
    on_new_look: NewLookHandler | None,
    full_look_every: timedelta = FULL_LOOK_EVERY,
    attempts: int = LOOK_ATTEMPTS,
) -> ResultSnapshot:
    """`take_snapshot` of an experiment read already, or of a definition presented as one (a
    holdout: `results.holdout_looks`). The look returned counts every event committed before
    `now`: when another process stores a look first that ends earlier, this one is taken again
    on top of it (at most `attempts` times in all)."""
    computed_at = now or datetime.now(UTC)
    key = experiment.key
    end = end_of_analysis(experiment, None, computed_at)
    if replan_due(experiment.design, experiment.started_at, end):
        # Two processes may take this look: the one that waits reads the plan the other stored
        # (and its look), so the plan is re-derived once (SQLite serialises writers anyway).
        session.refresh(experiment, with_for_update=True)
    latest = latest_snapshot(session, key)
    if latest is not None and _is_final(latest, experiment):
        return latest
    previous = None if latest is None else (stored_page(latest), latest.sums)
    inputs = look_inputs(session, experiment)
    looks, replan = new_looks(session, inputs, previous, end, computed_at, full_look_every)
    first_number = 1 if latest is None else latest.look + 1
    rows = [_row(key, number, look, computed_at) for number, look in enumerate(looks, first_number)]
    try:
        with session.begin_nested():
            if replan is not None:
                store_replan(session, experiment, replan)
            session.add_all(rows)
            _steer(session, experiment, looks[-1], rows[-1].look)
    except IntegrityError:
        # Another process stored this look number first. Its look serves if it ends where ours
        # does or later; one that ends earlier (a scheduler's look begun before this request's
        # events were committed) may miss them, so ours is taken again after it.
        stored = latest_snapshot(session, key)
        if stored is None:
            raise
        if stored.as_of >= end or attempts <= 1:
            return stored
        return take_look(
            session,
            experiment,
            computed_at,
            on_new_look=on_new_look,
            full_look_every=full_look_every,
            attempts=attempts - 1,
        )
    newest = rows[-1]
    if on_new_look is not None:
        earlier = None if latest is None else LookFacts.from_dict(latest.sums["facts"])
        on_new_look(session, NewLook(newest, earlier))
    return newest


def serve_results(
    session: Session,
    key: str,
    max_age: timedelta,
    *,
    fresh: bool = False,
    now: datetime | None = None,
    on_new_look: NewLookHandler | None,
) -> ResultsPage:
    """The results page of the latest look, taking a new look first when `fresh` is asked
    for or the latest is older than `max_age` (or predates the stop); `on_new_look` hears it."""
    experiment = get_experiment(session, key)
    latest = served_snapshot(session, experiment, max_age, fresh, now, on_new_look)
    served = stored_page(latest).model_copy(update={"status": str(experiment.status)})
    return with_headline(served)


def served_snapshot(
    session: Session,
    experiment: Experiment,
    max_age: timedelta,
    fresh: bool,
    now: datetime | None,
    on_new_look: NewLookHandler | None,
) -> ResultSnapshot:
    """The look `serve_results` serves (see there)."""
    moment = now or datetime.now(UTC)
    end_of_analysis(experiment, None, moment)  # a draft has no results
    latest = latest_snapshot(session, experiment.key)
    if (
        fresh
        or latest is None
        or not (_is_final(latest, experiment) or latest.computed_at >= moment - max_age)
    ):
        latest = take_look(session, experiment, moment, on_new_look=on_new_look)
    return latest


def results_as_of(
    session: Session, key: str, as_of: datetime, now: datetime | None = None
) -> ResultsPage:
    """The page counting events up to `as_of`, computed now (not stored), with the running
    readings of the stored looks up to that moment."""
    return look_as_of(session, key, as_of, now).page


def look_as_of(session: Session, key: str, as_of: datetime, now: datetime | None = None) -> Look:
    """The look `results_as_of` serves the page of, with its sums (see there)."""
    moment = now or datetime.now(UTC)
    experiment = get_experiment(session, key)
    end = end_of_analysis(experiment, as_of, moment)
    inputs = look_inputs(session, experiment)
    earlier = session.exec(
        select(ResultSnapshot)
        .where(ResultSnapshot.experiment == key, col(ResultSnapshot.as_of) <= end)
        .order_by(col(ResultSnapshot.look).desc())
        .limit(1)
    ).first()
    page = None if earlier is None else stored_page(earlier)
    sums = read_sums(session, inputs, end)
    look = make_look(inputs, sums, end, moment, stored_readings(page), stored_findings(page))
    number = None if earlier is None else earlier.look
    return replace(look, page=look.page.model_copy(update={"look": number}))


def stored_timeseries(
    session: Session,
    key: str,
    metric: str,
    now: datetime | None = None,
    *,
    on_new_look: NewLookHandler | None,
) -> Timeseries:
    """One metric over the stored looks: the last look of each UTC day, at most the last
    MAX_TIMESERIES_DAYS days (taking the first look, with its backfill, when none is stored;
    `on_new_look` hears it)."""
    experiment = get_experiment(session, key)
    inputs = look_inputs(session, experiment)
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
        return stored_timeseries(session, key, metric, now, on_new_look=None)
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
    looks: Result[Any] = session.connection().execute(
        select(col(ResultSnapshot.id).label("id"), col(ResultSnapshot.as_of).label("as_of"))
        .where(ResultSnapshot.experiment == key)
        .order_by(col(ResultSnapshot.look))
    )
    last_of_day: dict[str, int] = {}
    for look in looks.mappings():
        last_of_day[look_date(look["as_of"])] = look["id"]
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


def _steer(session: Session, experiment: Experiment, look: Look, number: int) -> None:
    """Open the update period a bandit's look drew new weights for (none due: nothing)."""
    bandit = look.results.bandit
    if bandit is None or bandit.update is None:
        return
    update = bandit.update
    open_period(
        session,
        experiment,
        update.period,
        update.starts_at,
        update.weights,
        update.seed or 0,
        number,
    )


def _is_final(snapshot: ResultSnapshot, experiment: Experiment) -> bool:
    """Whether a look already counts everything a stopped experiment will ever count."""
    stopped = experiment.stopped_at
    return (
        experiment.status != ExperimentStatus.RUNNING.value
        and stopped is not None
        and snapshot.as_of >= stopped
    )


def _row(key: str, number: int, look: Look, computed_at: datetime) -> ResultSnapshot:
    """The stored row of look `number`: its page, and its sums with the facts alerts compare."""
    facts = LookFacts.of(look.results, look.sums.aggregates)
    taken, basis = look.sums.taken, look.sums.basis
    kind = None if taken is None else LookKindPage.model_validate(taken.as_json())
    page = {"look": number} | ({} if kind is None else {"look_kind": kind})
    return ResultSnapshot(
        experiment=key,
        look=number,
        computed_at=computed_at,
        as_of=look.results.as_of,
        verdict=look.results.decision.verdict.value,
        results=look.page.model_copy(update=page).as_json(),
        sums={
            **sums_json(look.sums.aggregates),
            **quantiles_json(look.sums.quantiles),
            "facts": facts.to_dict(),
            **({} if taken is None else {"look_kind": taken.as_json()}),
            **({} if basis is None else {"basis": basis.as_json()}),
        },
    )
