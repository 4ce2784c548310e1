"""The overview of all experiments: each one's current verdict, units and days running.

Read from the newest stored look, the same page the results endpoint serves; an experiment
with no look stored yet is computed through `compute_results`, the function behind every look,
so the overview and the pages always agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from experiments.definitions import get_experiment
from experiments.models.experiment import ExperimentPage, ExperimentStatus, ResultsOverview
from experiments.results.compute import compute_results
from experiments.results.headline import display_state, headline
from experiments.results.snapshots import latest_snapshot


def with_results(session: Session, page: ExperimentPage, now: datetime | None = None) -> None:
    """Fill each item's `results` in place."""
    moment = now or datetime.now(UTC)
    for item in page.items:
        item.results = results_overview(session, item.key, moment)


def results_overview(session: Session, key: str, now: datetime) -> ResultsOverview:
    """One experiment's line of the overview; a draft has no verdict yet."""
    experiment = get_experiment(session, key)
    if experiment.status == ExperimentStatus.DRAFT or experiment.started_at is None:
        return ResultsOverview(verdict=None, variant=None, units=0, days_running=None, summary=None)
    stored = latest_snapshot(session, key)
    page: dict[str, Any] = (
        compute_results(session, key, now=now).to_dict() if stored is None else stored.results
    )
    end = datetime.fromisoformat(page["as_of"])
    metrics = page["metrics"]
    units = sum(int(variant["n"]) for variant in metrics[0]["variants"]) if metrics else 0
    return ResultsOverview(
        verdict=page["decision"]["verdict"],
        variant=page["decision"]["variant"],
        units=units,
        days_running=round((end - experiment.started_at).total_seconds() / 86400, 1),
        summary=page["summary"],
        display_state=display_state(page).value,
        headline=headline(page),
    )
