"""Stage 1 of a look: the sums of the looks to take now, one look or a first look's backfill."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlmodel import Session

from experiments.models.experiment import addressable
from experiments.pasted_counts import latest_counts
from experiments.results.look_inputs import LookInputs
from experiments.results.sums.backfill import daily_aggregates
from experiments.results.sums.look_ends import day_ends, first_exposure_at
from experiments.results.sums.sum_sources import ExperimentSums, load_sums, quantiles_of

MAX_BACKFILLED_LOOKS = 180  # looks a first backfill takes (the days a timeseries shows)


def dimensions_of(inputs: LookInputs) -> list[str]:
    """The experiment's dimensions the queries can read (a name stored before the rule on
    `"` and `\\` is left out rather than break the look)."""
    return [name for name in inputs.experiment.dimensions if addressable(name)]


def read_sums(session: Session, inputs: LookInputs, end: datetime) -> ExperimentSums:
    """The sums of one look ending at `end`: pasted counts or events, percentile caps applied,
    and for a bandit its first exposure."""
    sums = load_sums(
        session,
        inputs.experiment.key,
        inputs.variants,
        inputs.definitions,
        end,
        inputs.selection.cap_percentiles,
        dimensions_of(inputs),
        inputs.period_starts(end),
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
    session: Session, inputs: LookInputs, end: datetime, *, first: bool
) -> list[tuple[datetime, ExperimentSums]]:
    """The end and the sums of each look to take now: one look, or on the `first` look one per
    UTC day boundary since the first exposure (the backfill), oldest first."""
    if not first:
        return [(end, read_sums(session, inputs, end))]
    connection = session.connection()
    key, variants, metrics = inputs.experiment.key, inputs.variants, inputs.definitions
    pasted = latest_counts(session, key, end) is not None
    # Pasted counts have no exposures: their history starts at the send (the start).
    start = inputs.experiment.started_at if pasted else first_exposure_at(connection, key, end)
    ends = [end] if start is None else day_ends(start, end, MAX_BACKFILLED_LOOKS)
    # The one pass gives every look's event sums, but not a percentile cap that moves with each
    # look's units, pasted totals nor a bandit's periods: those looks are each loaded alone.
    steered = bool(inputs.period_starts(end))
    if len(ends) > 1 and not pasted and not inputs.selection.cap_percentiles and not steered:
        dimensions = dimensions_of(inputs)
        daily = daily_aggregates(connection, key, variants, metrics, ends, dimensions=dimensions)
        return [
            (
                day_end,
                _with_first_exposure(
                    session,
                    inputs,
                    ExperimentSums(
                        sums,
                        "events",
                        quantiles=quantiles_of(connection, key, variants, metrics, day_end),
                    ),
                    day_end,
                ),
            )
            for day_end, sums in zip(ends, daily, strict=True)
        ]
    return [(look_end, read_sums(session, inputs, look_end)) for look_end in ends]
