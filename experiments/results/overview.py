"""The overview of all experiments: each one's current verdict, units and days running.

Computed through `compute_results`, the function behind each results page, so the overview and
the pages always agree. (Once stored looks exist, this reads the newest look instead.)
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from experiments.definitions import get_experiment
from experiments.models import ExperimentPage, ExperimentStatus, ResultsOverview
from experiments.results.compute import compute_results


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
    results = compute_results(session, key, now=now)
    end = results.as_of
    units = sum(variant.n for variant in results.metrics[0].variants) if results.metrics else 0
    return ResultsOverview(
        verdict=results.decision.verdict.value,
        variant=results.decision.variant,
        units=units,
        days_running=round((end - experiment.started_at).total_seconds() / 86400, 1),
        summary=results.summary,
    )
