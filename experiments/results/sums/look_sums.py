"""Stage 1 of a look: the sums of the looks to take now, one look or a first look's backfill.

A stored look starts from the previous stored look's sums when it can (`incremental`), else
it is a full one; each says which it was and why (`look_basis`), and stores what the next look
starts from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection
from sqlmodel import Session

from experiments.models.experiment import ExperimentStatus, addressable
from experiments.pasted_counts import latest_counts
from experiments.results.look_inputs import LookInputs
from experiments.results.sums.aggregation import Aggregates, aggregate, capped_metrics
from experiments.results.sums.backfill import daily_aggregates
from experiments.results.sums.incremental import Previous, event_names, incremental_aggregates
from experiments.results.sums.ingestion_marks import mark_of, take_ceiling, unchanged
from experiments.results.sums.look_basis import (
    FULL_LOOK_EVERY,
    FullReason,
    HowTaken,
    LookBasis,
    LookKind,
    LookRequest,
    fingerprint,
    full_reason,
)
from experiments.results.sums.look_ends import day_ends, first_exposure_at
from experiments.results.sums.percentile_caps import (
    caps_and_peaks,
    caps_change_nothing,
    percentile_caps,
)
from experiments.results.sums.stored_sums import stored_aggregates
from experiments.results.sums.sum_sources import ExperimentSums, load_sums, quantiles_of
from experiments.results.sums.unit_columns import EventIds

MAX_BACKFILLED_LOOKS = 180  # looks a first backfill takes (the days a timeseries shows)

NewLooks = list[tuple[datetime, ExperimentSums]]


def dimensions_of(inputs: LookInputs) -> list[str]:
    """The experiment's dimensions the queries can read (a name stored before the rule on
    `"` and `\\` is left out rather than break the look)."""
    return [name for name in inputs.experiment.dimensions if addressable(name)]


def read_sums(
    session: Session,
    inputs: LookInputs,
    end: datetime,
    ceiling: EventIds | None = None,
    caps: Mapping[str, float | None] | None = None,
) -> ExperimentSums:
    """The sums of one look ending at `end`: pasted counts or events (with `ceiling`, those up
    to its ids), percentile caps applied (`caps` when already computed, `caps_now`), and for a
    bandit its first exposure."""
    sums = load_sums(
        session,
        inputs.experiment.key,
        inputs.variants,
        inputs.definitions,
        end,
        inputs.selection.cap_percentiles,
        dimensions_of(inputs),
        inputs.period_starts(end),
        ceiling,
        caps,
    )
    return _with_first_exposure(session, inputs, sums, end)


def _with_first_exposure(
    session: Session, inputs: LookInputs, sums: ExperimentSums, end: datetime
) -> ExperimentSums:
    """A bandit's sums with its first exposure up to `end` (an A/B test's as they are)."""
    if inputs.experiment.type != "bandit":
        return sums
    first = first_exposure_at(session.connection(), inputs.experiment.key, end)
    return replace(sums, first_exposed_at=first)


def sums_of_new_looks(
    session: Session,
    inputs: LookInputs,
    end: datetime,
    previous: Mapping[str, Any] | None,
    full_look_every: timedelta = FULL_LOOK_EVERY,
) -> NewLooks:
    """The end and the sums of each look to take now, oldest first: one look after the stored
    sums `previous` (incremental when it can be), or without them one per UTC day boundary
    since the first exposure (the backfill), each with how it was taken and, for the newest,
    the basis of the next look."""
    connection = session.connection()
    ceiling = take_ceiling(connection)
    if previous is None:
        looks = _first_looks(session, inputs, end, ceiling)
        last_end, last = looks[-1]
        return [*looks[:-1], (last_end, _with_basis(connection, inputs, last, last_end, ceiling))]
    pasted = latest_counts(session, inputs.experiment.key, end) is not None
    caps = None if pasted else caps_now(connection, inputs, end, ceiling)
    reason = _full_reason(session, inputs, end, previous, ceiling, full_look_every, pasted, caps)
    basis = LookBasis.stored(previous)
    if reason is not None or ceiling is None or basis is None:
        taken = HowTaken.full(reason or FullReason.NO_MARK)
        sums = replace(read_sums(session, inputs, end, ceiling, caps), taken=taken)
        since = _reread_since(inputs, basis, reason, end)
        return [(end, _with_basis(connection, inputs, sums, end, ceiling, since=since))]
    start = Previous(
        stored_aggregates(previous), basis.end, basis.mark.ceiling, basis.mark.reread_from
    )
    key, variants = inputs.experiment.key, inputs.variants
    # Caps that have not moved cap the touched units as they capped the stored sums.
    metrics = capped_metrics(inputs.definitions, caps) if caps else inputs.definitions
    aggregates, units_read = incremental_aggregates(
        connection, key, variants, metrics, dimensions_of(inputs), start, end, ceiling
    )
    sums = ExperimentSums(
        replace(aggregates, caps=dict(caps or {})),
        "events",
        quantiles=quantiles_of(connection, key, variants, inputs.definitions, end, ceiling),
        taken=HowTaken(LookKind.INCREMENTAL, units_read=units_read),
    )
    sums = _with_first_exposure(session, inputs, sums, end)
    return [(end, _with_basis(connection, inputs, sums, end, ceiling, basis))]


def _full_reason(
    session: Session,
    inputs: LookInputs,
    end: datetime,
    previous: Mapping[str, Any],
    ceiling: EventIds | None,
    full_look_every: timedelta,
    pasted: bool,
    caps: Mapping[str, float | None] | None,
) -> FullReason | None:
    """Why the look after `previous` is a full one (`look_basis.full_reason`); `caps` are the
    percentile caps at this look (`caps_now`; None for pasted counts, which have none)."""
    stored = stored_aggregates(previous)
    request = LookRequest(
        running=inputs.experiment.status == ExperimentStatus.RUNNING,
        pasted=pasted,
        periods=bool(inputs.period_starts(end)),
        fingerprint=_fingerprint(inputs),
        caps_moved=caps is not None and caps != stored.caps,
        end=end,
        full_look_every=full_look_every,
    )
    basis = LookBasis.stored(previous)
    reason = full_reason(request, basis, stored)
    if reason is None and ceiling is None:
        return FullReason.NO_MARK
    if reason is None and basis is not None and not unchanged(session.connection(), basis.mark):
        return FullReason.EVENTS_DELETED
    return reason


def caps_now(
    connection: Connection, inputs: LookInputs, end: datetime, ceiling: EventIds | None
) -> dict[str, float | None]:
    """The experiment's percentile caps at `end` (with `ceiling`, of the events up to its ids;
    `aggregation.percentile_caps`), {} without any."""
    percentiles = inputs.selection.cap_percentiles
    if not percentiles:
        return {}
    key, metrics = inputs.experiment.key, inputs.definitions
    return percentile_caps(connection, key, metrics, end, percentiles, ceiling)


def _first_looks(
    session: Session, inputs: LookInputs, end: datetime, ceiling: EventIds | None
) -> NewLooks:
    """The first look and its backfill: one look per UTC day boundary since the first exposure."""
    connection = session.connection()
    key, variants, metrics = inputs.experiment.key, inputs.variants, inputs.definitions
    pasted = latest_counts(session, key, end) is not None
    # Pasted counts have no exposures: their history starts at the send (the start).
    start = inputs.experiment.started_at if pasted else first_exposure_at(connection, key, end)
    ends = [end] if start is None else day_ends(start, end, MAX_BACKFILLED_LOOKS)
    first = HowTaken.full(FullReason.FIRST_LOOK)
    # The one pass gives every look's event sums, but not pasted totals nor a bandit's periods,
    # nor a percentile cap where it caps a value (it moves with each day's units): pasted and
    # bandit looks are each loaded alone, and a day whose caps cap a value aggregates its capped
    # metrics again.
    if len(ends) == 1 or pasted or inputs.period_starts(end):
        return [
            (look_end, replace(read_sums(session, inputs, look_end, ceiling), taken=first))
            for look_end in ends
        ]
    per_day = [_day_caps(connection, inputs, day_end, ceiling) for day_end in ends]
    dimensions = dimensions_of(inputs)
    daily = daily_aggregates(
        connection, key, variants, metrics, ends, dimensions=dimensions, ceiling=ceiling
    )
    looks: NewLooks = []
    for day_end, (day_caps, nothing_capped), one_pass in zip(ends, per_day, daily, strict=True):
        sums = (
            one_pass
            if nothing_capped
            else _recapped(connection, inputs, one_pass, day_end, day_caps, ceiling)
        )
        if sums is None:
            alone = read_sums(session, inputs, day_end, ceiling, day_caps)
            looks.append((day_end, replace(alone, taken=first)))
            continue
        quantiles = quantiles_of(connection, key, variants, metrics, day_end, ceiling)
        backfilled = ExperimentSums(
            replace(sums, caps=day_caps), "events", quantiles=quantiles, taken=first
        )
        looks.append((day_end, _with_first_exposure(session, inputs, backfilled, day_end)))
    return looks


def _recapped(
    connection: Connection,
    inputs: LookInputs,
    backfilled: Aggregates,
    end: datetime,
    caps: Mapping[str, float | None],
    ceiling: EventIds | None,
) -> Aggregates | None:
    """The backfill's sums of the day ending at `end` with its capped metrics aggregated again
    at the day's `caps` (the others' sums are the backfill's); None where the two passes do not
    count the same units (`Aggregates.with_sums_of`)."""
    capped = [metric for metric in inputs.definitions if metric.key in caps]
    again = aggregate(
        connection,
        inputs.experiment.key,
        inputs.variants,
        capped,
        end,
        dimensions=dimensions_of(inputs),
        ceiling=ceiling,
        caps=caps,
    )
    return backfilled.with_sums_of(again)


def _day_caps(
    connection: Connection, inputs: LookInputs, end: datetime, ceiling: EventIds | None
) -> tuple[dict[str, float | None], bool]:
    """The percentile caps of the look at `end`, and whether they cap nothing that day
    (`percentile_caps.caps_change_nothing`; always, without caps)."""
    percentiles = inputs.selection.cap_percentiles
    if not percentiles:
        return {}, True
    key, metrics = inputs.experiment.key, inputs.definitions
    caps, peaks = caps_and_peaks(connection, key, metrics, end, percentiles, ceiling)
    return caps, caps_change_nothing(caps, peaks)


def _with_basis(
    connection: Connection,
    inputs: LookInputs,
    sums: ExperimentSums,
    end: datetime,
    ceiling: EventIds | None,
    previous: LookBasis | None = None,
    since: EventIds | None = None,
) -> ExperimentSums:
    """`sums` with what the next look starts from (none for pasted counts or without a mark);
    an incremental look carries `previous`'s latest full look and reads again from its mark, a
    full one searches the events dated after `end` from `since` (all without it)."""
    if ceiling is None or sums.source != "events":
        return sums
    events = event_names(inputs.definitions)
    if previous is not None:
        since = previous.mark.reread_from
    mark = mark_of(connection, inputs.experiment.key, events, ceiling, end, since)
    full_at = end if previous is None else previous.full_at
    basis = LookBasis(mark, _fingerprint(inputs), end, full_at)
    return replace(sums, basis=basis)


def _reread_since(
    inputs: LookInputs, basis: LookBasis | None, reason: FullReason | None, end: datetime
) -> EventIds | None:
    """Where a full look after the look of `basis` searches for events dated after its end: from
    that look's `reread_from` (every smaller id is dated at or before that look's end, so before
    this one's) when the same events count and none was deleted; else from the first id."""
    kept = (FullReason.GUARD, FullReason.PERCENTILE_CAPS, FullReason.CAPPED_LEVELS)
    if basis is None or reason not in (*kept, FullReason.BANDIT_PERIODS, FullReason.STOPPED):
        return None
    if basis.fingerprint != _fingerprint(inputs) or end < basis.end:
        return None
    return basis.mark.reread_from


def _fingerprint(inputs: LookInputs) -> str:
    cap_percentiles = inputs.selection.cap_percentiles or {}
    return fingerprint(inputs.variants, inputs.definitions, dimensions_of(inputs), cap_percentiles)
