"""Holdouts: a small share of units kept on every covered experiment's control for a season.

A holdout is defined once (`create_holdout`) and starts at once; it covers a list of
experiments, or `all_new`: every experiment of its unit type started at or after its creation
(also those started later). Its units are drawn by its own salt (docs/experiments.md,
"Holdouts"), so they stay the same whatever experiments it covers. It runs until `ends_at` or
a stop; an ended or stopped holdout is no longer served and its units return to normal
assignment. Two running holdouts never cover one experiment. Every change is audit-logged.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, or_, select

from experiments.audit import COMMAND_LINE, Actor, record_change
from experiments.errors import ConflictError, FieldConflictError, InvalidInputError, NotFoundError
from experiments.holdout_power import planned_units_per_group, power_facts
from experiments.inputs import require_timezone
from experiments.metrics import metric_catalog
from experiments.models.audit import AuditEntity
from experiments.models.experiment import Experiment, ExperimentStatus
from experiments.models.holdout import (
    ALL_NEW,
    Holdout,
    HoldoutCreate,
    HoldoutPower,
    HoldoutPublic,
    HoldoutStatus,
)


def create_holdout(
    session: Session,
    data: HoldoutCreate,
    *,
    actor: Actor = COMMAND_LINE,
    now: datetime | None = None,
) -> Holdout:
    """Store and start a new holdout (its own random salt, its looks' plan from its power at
    creation: `holdout_power`); 422/409 naming the field."""
    moment = now or datetime.now(UTC)
    _check_ends_at(data.ends_at, moment)
    _check_metrics(session, data.metrics)
    if isinstance(data.experiments, list):
        _check_listed(session, data.experiments, data.unit_type)
    if session.exec(select(Experiment.id).where(Experiment.key == data.key)).first() is not None:
        raise FieldConflictError(
            "key",
            f"'{data.key}' names an experiment; holdouts and experiments share one namespace "
            "of keys, so choose another key",
        )
    if session.exec(select(Holdout.id).where(Holdout.key == data.key)).first() is not None:
        raise FieldConflictError("key", f"'{data.key}' names a holdout already; choose another")
    _check_no_overlap(session, data, moment)
    power = power_facts(session, data.metrics[0], data.share, data.ends_at, moment)
    holdout = Holdout(
        key=data.key,
        salt=secrets.token_hex(8),
        name=data.name,
        share=data.share,
        unit_type=data.unit_type,
        experiments=data.experiments,
        metrics=list(data.metrics),
        ends_at=data.ends_at.astimezone(UTC),
        planned_units_per_group=planned_units_per_group(session, power),
        created_at=moment,
        updated_at=moment,
    )
    session.add(holdout)
    session.flush()
    record_change(
        session, actor, AuditEntity.HOLDOUT, holdout.key, "created", None, audit_state(holdout)
    )
    return holdout


def get_holdout(session: Session, key: str) -> Holdout:
    holdout = session.exec(select(Holdout).where(Holdout.key == key)).first()
    if holdout is None:
        raise NotFoundError(f"no holdout with key '{key}'")
    return holdout


def list_holdouts(session: Session) -> list[Holdout]:
    """Every holdout, newest first."""
    return list(session.exec(select(Holdout).order_by(col(Holdout.id).desc())))


def stop_holdout(
    session: Session, key: str, *, actor: Actor = COMMAND_LINE, now: datetime | None = None
) -> Holdout:
    """Stop a running holdout before its end: its units return to normal assignment."""
    moment = now or datetime.now(UTC)
    holdout = get_holdout(session, key)
    state = status_of(holdout, moment)
    if state != HoldoutStatus.RUNNING:
        raise ConflictError(f"only a running holdout can stop; holdout '{key}' is {state}")
    before = audit_state(holdout)
    holdout.status = HoldoutStatus.STOPPED.value
    holdout.stopped_at = moment
    holdout.updated_at = moment
    session.add(holdout)
    session.flush()
    record_change(session, actor, AuditEntity.HOLDOUT, key, "stopped", before, audit_state(holdout))
    return holdout


def status_of(holdout: Holdout, now: datetime) -> HoldoutStatus:
    """Stored as running or stopped; a running holdout past `ends_at` has ended."""
    if holdout.status == HoldoutStatus.STOPPED:
        return HoldoutStatus.STOPPED
    return HoldoutStatus.RUNNING if now < holdout.ends_at else HoldoutStatus.ENDED


def end_of(holdout: Holdout) -> datetime:
    """When the holdout stops counting: its stop, else `ends_at`."""
    return holdout.stopped_at or holdout.ends_at


def covered_experiments(session: Session, holdout: Holdout) -> list[Experiment]:
    """The experiments the holdout covers now, by key: its list, or (`all_new`) those of its
    unit type started at or after its creation."""
    query = select(Experiment).order_by(col(Experiment.key))
    if holdout.experiments == ALL_NEW:
        query = query.where(
            Experiment.unit_type == holdout.unit_type,
            col(Experiment.started_at) >= holdout.created_at,
        )
    else:
        query = query.where(col(Experiment.key).in_(holdout.experiments))
    return list(session.exec(query))


def to_public(
    session: Session, holdout: Holdout, now: datetime, power: HoldoutPower | None = None
) -> HoldoutPublic:
    return HoldoutPublic(
        key=holdout.key,
        name=holdout.name,
        share=holdout.share,
        unit_type=holdout.unit_type,
        experiments=holdout.experiments,
        covered=[experiment.key for experiment in covered_experiments(session, holdout)],
        metrics=holdout.metrics,
        ends_at=holdout.ends_at,
        status=status_of(holdout, now),
        created_at=holdout.created_at,
        updated_at=holdout.updated_at,
        stopped_at=holdout.stopped_at,
        power=power,
    )


def running_holdouts(session: Session, now: datetime) -> list[Holdout]:
    """The holdouts served at `now` (not stopped, before `ends_at`), by key."""
    query = (
        select(Holdout)
        .where(Holdout.status == HoldoutStatus.RUNNING.value, col(Holdout.ends_at) > now)
        .order_by(col(Holdout.key))
    )
    return list(session.exec(query))


def served_entry(session: Session, holdout: Holdout) -> dict[str, Any]:
    """A running holdout as the SDK config's `holdouts` lists it, `all_new` resolved to keys."""
    return {
        "key": holdout.key,
        "salt": holdout.salt,
        "share": holdout.share,
        "unit_type": holdout.unit_type,
        "experiments": [e.key for e in covered_experiments(session, holdout)],
    }


def audit_state(holdout: Holdout) -> dict[str, Any]:
    """The holdout as the audit log compares it (no salt, no timestamps every change moves)."""
    return {
        "name": holdout.name,
        "share": holdout.share,
        "unit_type": holdout.unit_type,
        "experiments": holdout.experiments,
        "metrics": holdout.metrics,
        "ends_at": holdout.ends_at.isoformat(),
        "status": holdout.status,
        "stopped_at": None if holdout.stopped_at is None else holdout.stopped_at.isoformat(),
    }


def _check_ends_at(ends_at: datetime, now: datetime) -> None:
    require_timezone("ends_at", ends_at)
    if ends_at <= now:
        raise InvalidInputError(
            "ends_at", "must be in the future: a holdout runs from now until ends_at"
        )


def _check_metrics(session: Session, metrics: list[str]) -> None:
    catalog = metric_catalog(session)
    for index, key in enumerate(metrics):
        if key not in catalog:
            raise InvalidInputError(
                f"metrics[{index}]",
                f"'{key}' is not a known metric; known: {', '.join(sorted(catalog))}",
            )
    if catalog[metrics[0]].kind == "quantile":
        raise InvalidInputError(
            "metrics[0]",
            f"'{metrics[0]}' is a quantile metric: the first metric is the one the summary and "
            "the plan read, a mean or a rate; list it later",
        )


def _check_listed(session: Session, keys: list[str], unit_type: str) -> None:
    found = {
        experiment.key: experiment
        for experiment in session.exec(select(Experiment).where(col(Experiment.key).in_(keys)))
    }
    for index, key in enumerate(keys):
        experiment = found.get(key)
        if experiment is None:
            raise InvalidInputError(f"experiments[{index}]", f"'{key}' is not an experiment")
        if experiment.unit_type != unit_type:
            raise InvalidInputError(
                f"experiments[{index}]",
                f"'{key}' counts units of type {experiment.unit_type}, the holdout {unit_type}: "
                "a holdout covers experiments of its own unit type",
            )


def _check_no_overlap(session: Session, data: HoldoutCreate, now: datetime) -> None:
    """409 naming `experiments` when a running holdout of the same unit type covers, or will
    cover, one of the experiments the new one would."""
    running = session.exec(
        select(Holdout).where(
            Holdout.status == HoldoutStatus.RUNNING.value,
            col(Holdout.ends_at) > now,
            Holdout.unit_type == data.unit_type,
        )
    )
    for other in running:
        shared = _shared(session, data.experiments, other)
        if shared:
            raise FieldConflictError(
                "experiments",
                f"overlap with the running holdout '{other.key}' ({shared}): an experiment may "
                "be covered by one running holdout only; stop that one or cover other "
                "experiments",
            )


def _shared(session: Session, wanted: str | list[str], other: Holdout) -> str | None:
    """What the new holdout's experiments share with `other`'s, in words, or None."""
    if wanted == ALL_NEW and other.experiments == ALL_NEW:
        return "both cover all new experiments"
    if wanted == ALL_NEW:
        # The new one covers every later start: `other`'s drafts would start covered twice.
        drafts = session.exec(
            select(Experiment.key).where(
                col(Experiment.key).in_(other.experiments),
                Experiment.status == ExperimentStatus.DRAFT.value,
            )
        ).first()
        return None if drafts is None else f"its draft '{drafts}' would start covered by both"
    if other.experiments == ALL_NEW:
        newer = session.exec(
            select(Experiment.key).where(
                col(Experiment.key).in_(wanted),
                Experiment.unit_type == other.unit_type,
                or_(
                    col(Experiment.status) == ExperimentStatus.DRAFT.value,
                    col(Experiment.started_at) >= other.created_at,
                ),
            )
        ).first()
        return None if newer is None else f"it covers '{newer}' as a new experiment"
    both = sorted(set(wanted) & set(other.experiments))
    return f"both cover {', '.join(both)}" if both else None
