"""Serving a look broken down by one of the experiment's dimensions (`?dimension=`, `vekst
results --by`): the look the results page serves, with its `segments` computed from the
per-level sums stored with it (no event is read again), or for `as_of` from the sums of that
moment. `breakdown` analyses the levels; this module only finds the look and checks the name.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from experiments.definitions import get_experiment
from experiments.errors import InvalidInputError
from experiments.inputs import printable
from experiments.models.experiment import Experiment
from experiments.results.breakdown import breakdown_terms, segments_page
from experiments.results.look_inputs import look_inputs
from experiments.results.page import ResultsPage
from experiments.results.snapshots import (
    NewLookHandler,
    look_as_of,
    served_snapshot,
    stored_page,
)
from experiments.results.sums.groups import Aggregates
from experiments.results.sums.stored_sums import stored_aggregates
from experiments.results.words.headline import with_headline


def serve_breakdown(
    session: Session,
    key: str,
    dimension: str,
    max_age: timedelta,
    *,
    as_of: datetime | None = None,
    fresh: bool = False,
    now: datetime | None = None,
    on_new_look: NewLookHandler | None,
) -> ResultsPage:
    """The results page `serve_results` (or `results_as_of`) gives, with `segments`: the look
    broken down by `dimension`. InvalidInputError (field `dimension`) for a name the experiment
    does not break results down by."""
    experiment = get_experiment(session, key)
    check_dimension(experiment, dimension)
    page: ResultsPage
    aggregates: Aggregates
    if as_of is not None:
        look = look_as_of(session, key, as_of, now)
        page, aggregates = look.page, look.sums.aggregates
    else:
        snapshot = served_snapshot(session, experiment, max_age, fresh, now, on_new_look)
        page = stored_page(snapshot).model_copy(update={"status": str(experiment.status)})
        page = with_headline(page)
        aggregates = stored_aggregates(snapshot.sums, dimension)
    inputs = look_inputs(session, experiment)
    terms = breakdown_terms(inputs, page.planned_units_per_variant)
    segments = segments_page(inputs, aggregates, dimension, terms)
    return page.model_copy(update={"segments": segments})


def check_dimension(experiment: Experiment, dimension: str) -> None:
    """Refuse a dimension the experiment does not name (the rule names the ones it does)."""
    if dimension in experiment.dimensions:
        return
    if not experiment.dimensions:
        rule = (
            f"cannot be '{printable(dimension)}': experiment '{experiment.key}' names no "
            f"dimensions; name some in its `dimensions` (PATCH /v1/experiments/{experiment.key})"
        )
    else:
        named = ", ".join(experiment.dimensions)
        rule = f"must be one of the experiment's dimensions ({named}), not '{printable(dimension)}'"
    raise InvalidInputError("dimension", rule)
