"""The overview of all experiments: each one's current verdict, units and days running.

Read from the newest stored look of each experiment, the same page the results endpoint
serves, all in one query: a list of experiments never computes a look. An experiment with no
look stored yet (a draft, or one started since the last scheduled look) has no verdict yet.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import and_, func
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from experiments.models.experiment import ExperimentStatus, ResultsOverview
from experiments.models.snapshot import ResultSnapshot
from experiments.results.snapshots import stored_page
from experiments.results.words.headline import display_state, headline

NO_RESULTS = ResultsOverview(verdict=None, variant=None, units=0, days_running=None, summary=None)
# A started experiment before its first look: the scheduler (or "take a look now") brings one.
NO_LOOK_YET = NO_RESULTS.model_copy(update={"display_state": "no_look", "headline": "No look yet"})


class Listed(Protocol):
    """What an overview line needs of an experiment (`ExperimentPublic`, `ExperimentListed`)."""

    @property
    def key(self) -> str: ...
    @property
    def status(self) -> ExperimentStatus: ...
    @property
    def started_at(self) -> datetime | None: ...

    results: ResultsOverview | None


class Listing(Protocol):
    """A page of experiments (`ExperimentPage`, `ListedPage`)."""

    @property
    def items(self) -> Sequence[Listed]: ...


def with_results(session: Session, page: Listing) -> dict[str, ResultSnapshot]:
    """Fill each item's `results` in place from its newest look; returns those looks by
    experiment key (an experiment without a look is left out)."""
    looks = newest_looks(session, [item.key for item in page.items])
    for item in page.items:
        item.results = results_overview(item, looks.get(item.key))
    return looks


def newest_looks(session: Session, keys: Collection[str]) -> dict[str, ResultSnapshot]:
    """The newest stored look of each experiment in `keys`, in one query (without its sums,
    which an overview does not read: half the JSON to decode)."""
    if not keys:
        return {}
    newest = (
        select(ResultSnapshot.experiment, func.max(ResultSnapshot.look).label("look"))
        .where(col(ResultSnapshot.experiment).in_(keys))
        .group_by(col(ResultSnapshot.experiment))
        .subquery()
    )
    query = (
        select(ResultSnapshot)
        .join(
            newest,
            and_(
                col(ResultSnapshot.experiment) == newest.c.experiment,
                col(ResultSnapshot.look) == newest.c.look,
            ),
        )
        # The overview reads the pages; the sums (with a segmented experiment's levels, tens of
        # kilobytes) are loaded only if asked for.
        .options(defer(ResultSnapshot.sums))  # type: ignore[arg-type]
    )
    return {look.experiment: look for look in session.exec(query).all()}


def results_overview(experiment: Listed, look: ResultSnapshot | None) -> ResultsOverview:
    """One experiment's line of the overview; a draft, or an experiment without a stored look,
    has no verdict yet."""
    started = experiment.started_at
    if experiment.status == ExperimentStatus.DRAFT or started is None:
        return NO_RESULTS.model_copy()
    if look is None:
        return NO_LOOK_YET.model_copy()
    page = stored_page(look)
    primary = page.primary
    units = sum(variant.n for variant in primary.variants) if primary else 0
    return ResultsOverview(
        verdict=page.decision.verdict.value,
        variant=page.decision.variant,
        units=units,
        days_running=round((page.as_of - started.astimezone(UTC)).total_seconds() / 86400, 1),
        summary=page.summary,
        display_state=display_state(page).value,
        headline=headline(page),
    )
