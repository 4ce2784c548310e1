"""Moving experiments through draft -> running -> stopped -> archived, and what each state
allows to change.

A draft may change freely. Once started, the experiment's question is fixed: the variants, the
unit type, the layer, the primary metric, the guardrails and the design (alpha, power, MDE,
planned units and any margin) are refused with a 409 that says why; secondary metrics, the
name, the hypothesis, targeting, overrides and the dimensions (they only say which attributes
exposures keep, never who gets what) may still change, traffic may only grow while it runs, and
`sticky_version` may only grow (a reshuffle moves it on by one).
An archived experiment changes no more. Every change is recorded in the audit log in the same
transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from experiments import layers
from experiments.audit import COMMAND_LINE, Actor, record_change
from experiments.bandit_periods import open_first_period
from experiments.bandit_rules import check_weights_kept
from experiments.definitions import audit_state, check_patch, get_experiment, write_patch
from experiments.errors import ConflictError, InvalidInputError
from experiments.inputs import text_problem
from experiments.models.audit import AuditEntity
from experiments.models.experiment import (
    Experiment,
    ExperimentStatus,
    ExperimentUpdate,
)
from experiments.planning import design_at_start
from vekst_sdk.spec import MAX_STICKY_VERSION

# What may not change once an experiment has started, and why (the 409 says it).
FROZEN_AFTER_START: dict[str, str] = {
    "variants": "its units were already split between these variants",
    "unit_type": "its units were already counted by this unit type",
    "type": "its units were already split by this kind of experiment (an A/B test or a bandit)",
    "bandit": (
        "the bandit's exploration, updates, floor and winner probability steer the split and "
        "call the winner, and changing them after seeing the data changes both"
    ),
    "layer": "its units were already drawn from this layer",
    "design": (
        "the sequential test and the planned sample were tuned by the design before the data "
        "came in"
    ),
    "metrics.primary": (
        "the primary metric is the question the experiment answers, and choosing it after "
        "seeing the data invalidates the verdict"
    ),
    "metrics.guardrails": (
        "adding or dropping guardrails after seeing the data changes the verdict"
    ),
    "metrics.guardrail_margins": (
        "a guardrail's margin decides whether it was harmed; loosening it after seeing the data "
        "changes the verdict"
    ),
    "metrics.cap_percentiles": (
        "a cap changes every unit's value, and choosing it after seeing the data changes the "
        "verdict"
    ),
}


def check_update(experiment: Experiment, patch: ExperimentUpdate) -> None:
    """Raise ConflictError when `experiment`'s status refuses a field of `patch`."""
    if experiment.status == ExperimentStatus.ARCHIVED:
        raise ConflictError(
            f"experiment '{experiment.key}' is archived and cannot change; "
            "create a new experiment instead"
        )
    if experiment.status == ExperimentStatus.DRAFT:
        return
    check_weights_kept(experiment, patch.variants)
    frozen = [name for name in FROZEN_AFTER_START if name in _changed_fields(experiment, patch)]
    if frozen:
        reasons = "; ".join(f"{name}: {FROZEN_AFTER_START[name]}" for name in frozen)
        raise ConflictError(
            f"{', '.join(frozen)} cannot change once an experiment has started ({reasons}); "
            "stop it and create a new experiment with the new set-up (secondary metrics, the "
            "name, the hypothesis and the dimensions may still change)"
        )
    if patch.sticky_version is not None and patch.sticky_version < experiment.sticky_version:
        raise ConflictError(
            f"sticky_version may only grow once an experiment has started (it is "
            f"{experiment.sticky_version}): an earlier version would bring back the variants "
            "units kept under it; POST /v1/experiments/{key}/reshuffle moves it on"
        )
    if patch.traffic is None or patch.traffic == experiment.traffic:
        return
    if experiment.status == ExperimentStatus.STOPPED:
        raise ConflictError("traffic of a stopped experiment cannot change")
    if patch.traffic < experiment.traffic:
        raise ConflictError(
            f"traffic may only grow while an experiment runs (it is {experiment.traffic}); "
            "lowering it would drop units already exposed - stop the experiment instead"
        )


def update_experiment(
    session: Session, key: str, patch: ExperimentUpdate, *, actor: Actor = COMMAND_LINE
) -> Experiment:
    """Apply a partial update that the experiment's status allows (else 409), and record it."""
    experiment = get_experiment(session, key)
    check_update(experiment, patch)
    before = audit_state(experiment)
    _grow_with_traffic(session, experiment, patch)
    check_patch(session, experiment, patch)
    write_patch(session, experiment, patch)
    _record(session, actor, experiment, "updated", before)
    return experiment


def _grow_with_traffic(session: Session, experiment: Experiment, patch: ExperimentUpdate) -> None:
    """A running layer experiment whose traffic grows takes more of its layer (409 when full)."""
    running = experiment.status == ExperimentStatus.RUNNING
    if running and patch.traffic is not None and patch.traffic > experiment.traffic:
        layers.grow_layer_slice(session, experiment, patch.traffic)


def start_experiment(session: Session, key: str, *, actor: Actor = COMMAND_LINE) -> Experiment:
    """Start a draft; a layer experiment takes a free slice of its layer."""
    experiment = get_experiment(session, key)
    if experiment.status != ExperimentStatus.DRAFT:
        raise ConflictError(
            f"only a draft can start; experiment '{key}' is {experiment.status}. "
            "To run it again, create a new experiment"
        )
    before = audit_state(experiment)
    if experiment.layer is not None:
        layers.grow_layer_slice(session, experiment, experiment.traffic)
    # The plan (and so the sequential test's tuning) is fixed now, for every later look.
    experiment.design = design_at_start(session, experiment)
    now = datetime.now(UTC)
    experiment.status = ExperimentStatus.RUNNING.value
    experiment.started_at = now
    experiment.updated_at = now
    session.add(experiment)
    if experiment.type == "bandit":
        open_first_period(session, experiment, now)
    session.flush()
    _record(session, actor, experiment, "started", before)
    return experiment


MAX_STOP_REASON_LENGTH = 500


def stop_experiment(
    session: Session,
    key: str,
    winner: str | None = None,
    *,
    actor: Actor = COMMAND_LINE,
    reason: str | None = None,
) -> Experiment:
    """Stop a running experiment; a named winner is then served to everyone as a plain flag.
    A `reason` (why a winner not shown better ships) goes on the audit entry as `stop_reason`."""
    if reason is not None:
        problem = text_problem(reason)
        if problem is None and len(reason) > MAX_STOP_REASON_LENGTH:
            problem = f"must be at most {MAX_STOP_REASON_LENGTH} characters"
        if problem is not None:
            raise InvalidInputError("reason", problem)
    experiment = get_experiment(session, key)
    if experiment.status != ExperimentStatus.RUNNING:
        raise ConflictError(
            f"only a running experiment can stop; experiment '{key}' is {experiment.status}"
        )
    if winner is not None and winner not in experiment.variant_keys():
        raise InvalidInputError(
            "winner",
            f"must be one of the experiment's variants ({', '.join(experiment.variant_keys())})",
        )
    before = audit_state(experiment)
    now = datetime.now(UTC)
    experiment.status = ExperimentStatus.STOPPED.value
    experiment.winner = winner
    experiment.stopped_at = now
    experiment.updated_at = now
    # A stopped experiment exposes no one, so its slice of the layer is free again.
    experiment.layer_ranges = []
    session.add(experiment)
    session.flush()
    note = {"stop_reason": reason} if reason else {}
    _record(session, actor, experiment, "stopped", before, note)
    return experiment


def reshuffle_experiment(session: Session, key: str, *, actor: Actor = COMMAND_LINE) -> Experiment:
    """Move a sticky experiment to its next `sticky_version`: SDKs no longer find the variants
    they kept and assign every unit afresh (409 unless it is sticky, or once archived)."""
    experiment = get_experiment(session, key)
    if experiment.status == ExperimentStatus.ARCHIVED:
        raise ConflictError(f"experiment '{key}' is archived and cannot change")
    if not experiment.sticky:
        raise ConflictError(
            f"experiment '{key}' is not sticky, so there is nothing to reshuffle "
            '(PATCH it with "sticky": true to keep units in their variants)'
        )
    if experiment.sticky_version >= MAX_STICKY_VERSION:
        raise ConflictError(f"sticky_version of '{key}' is at its maximum ({MAX_STICKY_VERSION})")
    before = audit_state(experiment)
    experiment.sticky_version += 1
    experiment.updated_at = datetime.now(UTC)
    session.add(experiment)
    session.flush()
    _record(session, actor, experiment, "reshuffled", before)
    return experiment


def archive_experiment(session: Session, key: str, *, actor: Actor = COMMAND_LINE) -> Experiment:
    experiment = get_experiment(session, key)
    if experiment.status == ExperimentStatus.RUNNING:
        raise ConflictError(f"experiment '{key}' is running; stop it before archiving it")
    if experiment.status == ExperimentStatus.ARCHIVED:
        raise ConflictError(f"experiment '{key}' is archived already")
    before = audit_state(experiment)
    experiment.status = ExperimentStatus.ARCHIVED.value
    experiment.updated_at = datetime.now(UTC)
    session.add(experiment)
    session.flush()
    _record(session, actor, experiment, "archived", before)
    return experiment


def _changed_fields(experiment: Experiment, patch: ExperimentUpdate) -> set[str]:
    """The fields of FROZEN_AFTER_START that `patch` changes. Variants, unit type and layer
    count as changed when sent at all (as before); the design and the metrics only when their
    values differ (guardrails in any order), so a client may send back the object it read."""
    sent = patch.model_fields_set
    changed: set[str] = {name for name in ("variants", "unit_type", "layer") if name in sent}
    if patch.type is not None and patch.type != experiment.type:
        changed.add("type")
    if patch.bandit is not None and patch.bandit != experiment.bandit:
        changed.add("bandit")
    if patch.design is not None and patch.design != experiment.design:
        changed.add("design")
    if patch.metrics is not None:
        current = experiment.metrics
        if patch.metrics.primary != current.primary:
            changed.add("metrics.primary")
        if sorted(patch.metrics.guardrails) != sorted(current.guardrails):
            changed.add("metrics.guardrails")
        if patch.metrics.guardrail_margins != current.guardrail_margins:
            changed.add("metrics.guardrail_margins")
        if patch.metrics.cap_percentiles != current.cap_percentiles:
            changed.add("metrics.cap_percentiles")
    return changed


def _record(
    session: Session,
    actor: Actor,
    experiment: Experiment,
    action: str,
    before: dict[str, Any],
    note: dict[str, Any] | None = None,
) -> None:
    """One audit entry for `action`; `note` adds fields that are not the experiment's own
    (a stop's reason) to its after-state."""
    record_change(
        session,
        actor,
        AuditEntity.EXPERIMENT,
        experiment.key,
        action,
        before,
        {**audit_state(experiment), **(note or {})},
    )
