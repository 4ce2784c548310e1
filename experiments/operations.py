"""Use cases that span the definition and its results: one call each for the API and the pages.

A stop and a paste of counts both change what the results count, so each takes its look at once:
the stop its final look (everything up to the stop), the paste a look on the new counts, and
each hands its look to the webhooks (`queue_look_alerts`, in the same transaction). A new holdout
is answered with what its share can detect (its power, worded by the results). The routers
and the pages call these, never the steps, so no caller forgets the look or its alerts.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from experiments import holdouts, lifecycle
from experiments.audit import COMMAND_LINE, Actor
from experiments.models.experiment import Experiment
from experiments.models.holdout import HoldoutCreate, HoldoutPublic
from experiments.models.pasted_counts import CountsCreate, CountsPublic
from experiments.pasted_counts import attach_counts
from experiments.results.holdout_looks import power_of
from experiments.results.snapshots import take_snapshot
from experiments.webhooks.store import queue_look_alerts


def stop_and_take_final_look(
    session: Session,
    key: str,
    winner: str | None = None,
    *,
    actor: Actor = COMMAND_LINE,
    reason: str | None = None,
) -> Experiment:
    """Stop experiment `key` (`lifecycle.stop_experiment`: its errors, its audit entry), then
    take the final look, counting everything up to the stop."""
    stopped = lifecycle.stop_experiment(session, key, winner, actor=actor, reason=reason)
    take_snapshot(session, key, on_new_look=queue_look_alerts)
    return stopped


def paste_counts_and_take_look(
    session: Session, key: str, data: CountsCreate, *, actor: Actor = COMMAND_LINE
) -> CountsPublic:
    """Attach one reading of pasted counts to experiment `key` (`pasted_counts.attach_counts`:
    its errors, its audit entry), then take a look on them."""
    counts = attach_counts(session, key, data, actor=actor)
    take_snapshot(session, key, on_new_look=queue_look_alerts)
    return counts


def create_holdout_with_power(
    session: Session, data: HoldoutCreate, *, actor: Actor = COMMAND_LINE
) -> HoldoutPublic:
    """Create and start holdout `data` (`holdouts.create_holdout`: its errors, its audit
    entry) and say what its share can detect by its end at the shop's traffic."""
    now = datetime.now(UTC)
    holdout = holdouts.create_holdout(session, data, actor=actor, now=now)
    return holdouts.to_public(session, holdout, now, power_of(session, holdout, now))
