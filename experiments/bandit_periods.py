"""A bandit's update periods: the first opened at the start with equal weights, each later one
opened by the look that steered (its weights written to the variants, so they reach every
server and SDK through the config as any change does, and logged on the audit log)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlmodel import Session, col, select

from experiments.audit import SYSTEM, record_change
from experiments.definitions import audit_state
from experiments.models.audit import AuditEntity
from experiments.models.bandit import BanditPeriod
from experiments.models.experiment import Experiment

STEERED = "bandit_weights"
"""The audit action of a change of weights made by the bandit."""
WEIGHT_DECIMALS = 6
LEAST_SHARE = 1e-6
"""The least share written for an arm (a floor of 0 may draw 0): the SDKs refuse a weight of 0,
and this one still gets thousands of the 2^32 hash buckets."""


def served_shares(weights: Mapping[str, float]) -> dict[str, float]:
    """The shares written to the config for `weights`: rounded, never 0."""
    return {
        key: max(round(float(share), WEIGHT_DECIMALS), LEAST_SHARE)
        for key, share in weights.items()
    }


def periods_of(session: Session, key: str) -> list[BanditPeriod]:
    """The update periods of experiment `key`, oldest first (none for an A/B test)."""
    query = select(BanditPeriod).where(BanditPeriod.experiment == key)
    return list(session.exec(query.order_by(col(BanditPeriod.period))))


def open_first_period(session: Session, experiment: Experiment, at: datetime) -> None:
    """Period 0 of a bandit starting at `at`: the equal weights of its exploration."""
    weights = {str(v["key"]): float(v["weight"]) for v in experiment.variants}
    total = sum(weights.values())
    shares = {key: round(weight / total, WEIGHT_DECIMALS) for key, weight in weights.items()}
    session.add(
        BanditPeriod(experiment=experiment.key, period=0, starts_at=at, weights=shares, seed=None)
    )


def open_period(
    session: Session,
    experiment: Experiment,
    number: int,
    starts_at: datetime,
    weights: Mapping[str, float],
    seed: int,
    look: int | None,
) -> BanditPeriod:
    """Open period `number` at `starts_at`: serve `weights` (variant key -> share) from now on,
    as drawn with `seed` at look `look`, logged on the audit log as Vekst's own change."""
    before = audit_state(experiment)
    shares = served_shares(weights)
    experiment.variants = [
        {**variant, "weight": shares[str(variant["key"])]} for variant in experiment.variants
    ]
    experiment.updated_at = starts_at
    session.add(experiment)
    period = BanditPeriod(
        experiment=experiment.key,
        period=number,
        starts_at=starts_at,
        weights=shares,
        seed=seed,
        look=look,
    )
    session.add(period)
    record_change(
        session,
        SYSTEM,
        AuditEntity.EXPERIMENT,
        experiment.key,
        STEERED,
        before,
        audit_state(experiment),
    )
    return period
