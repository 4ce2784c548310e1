"""Moving experiments through draft -> running -> stopped -> archived."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from experiments import layers
from experiments.definitions import get_experiment
from experiments.errors import ConflictError, InvalidInputError
from experiments.models import Experiment, ExperimentStatus
from experiments.results.plan import design_at_start


def start_experiment(session: Session, key: str) -> Experiment:
    """Start a draft; a layer experiment takes a free slice of its layer."""
    experiment = get_experiment(session, key)
    if experiment.status != ExperimentStatus.DRAFT:
        raise ConflictError(
            f"only a draft can start; experiment '{key}' is {experiment.status}. "
            "To run it again, create a new experiment"
        )
    if experiment.layer is not None:
        layers.grow_layer_slice(session, experiment, experiment.traffic)
    # The plan (and so the sequential test's tuning) is fixed now, for every later look.
    experiment.design = design_at_start(session, experiment)
    now = datetime.now(UTC)
    experiment.status = ExperimentStatus.RUNNING.value
    experiment.started_at = now
    experiment.updated_at = now
    session.add(experiment)
    session.flush()
    return experiment


def stop_experiment(session: Session, key: str, winner: str | None = None) -> Experiment:
    """Stop a running experiment; a named winner is then served to everyone as a plain flag."""
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
    now = datetime.now(UTC)
    experiment.status = ExperimentStatus.STOPPED.value
    experiment.winner = winner
    experiment.stopped_at = now
    experiment.updated_at = now
    # A stopped experiment exposes no one, so its slice of the layer is free again.
    experiment.layer_ranges = []
    session.add(experiment)
    session.flush()
    return experiment


def archive_experiment(session: Session, key: str) -> Experiment:
    experiment = get_experiment(session, key)
    if experiment.status == ExperimentStatus.RUNNING:
        raise ConflictError(f"experiment '{key}' is running; stop it before archiving it")
    if experiment.status == ExperimentStatus.ARCHIVED:
        raise ConflictError(f"experiment '{key}' is archived already")
    experiment.status = ExperimentStatus.ARCHIVED.value
    experiment.updated_at = datetime.now(UTC)
    session.add(experiment)
    session.flush()
    return experiment
