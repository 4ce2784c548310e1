"""A short-lived, in-process copy of experiment statuses, variants and dimensions (and of the
holdout keys, whose exposures name `holdout` or `measurement`) for the exposure check.

A batch of 500 exposures costs one lookup of the `experiments` table at most, and none while the
copy is fresh (`ttl_seconds`, 1 s by default). A status change therefore takes effect on event
validation within `ttl_seconds` on every API worker, except that an exposure the copy refuses
is judged again against a copy read after the batch arrived (see `intake`): a start is seen at
once, a stop or an archive within `ttl_seconds`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import col

from experiments.events.types import KnownExperiment
from experiments.models.experiment import Experiment, ExperimentStatus
from experiments.models.holdout import GROUPS, Holdout

DEFAULT_TTL_SECONDS = 1.0
HOLDOUT = frozenset(GROUPS)


class ExperimentSnapshot:
    """An immutable lookup table of experiments by key (an `ExperimentCatalog`)."""

    def __init__(self, experiments: Mapping[str, KnownExperiment]) -> None:
        self._experiments = dict(experiments)

    def get(self, key: str) -> KnownExperiment | None:
        return self._experiments.get(key)


def load_snapshot(engine: Engine) -> ExperimentSnapshot:
    """Read every experiment's key, status, variant keys and dimensions in one query, and every
    holdout's key in another: a holdout takes exposures of its two groups, as an experiment
    running or stopped does (ended ones too: their looks count up to the end)."""
    statement = select(  # type: ignore[call-overload]
        Experiment.key, Experiment.status, Experiment.variants, Experiment.dimensions
    )
    with engine.connect() as connection:
        rows = connection.execute(statement).all()
        holdouts = connection.execute(select(col(Holdout.key))).scalars().all()
    known = {
        key: KnownExperiment(
            status=status,
            variants=frozenset(str(v["key"]) for v in variants),
            dimensions=frozenset(dimensions or ()),
        )
        for key, status, variants, dimensions in rows
    }
    for key in holdouts:
        known[key] = KnownExperiment(status=ExperimentStatus.RUNNING.value, variants=HOLDOUT)
    return ExperimentSnapshot(known)


class CachedCatalog:
    """Hands out a snapshot no older than `ttl_seconds`; `refresh` does the (blocking) read."""

    def __init__(
        self,
        engine: Engine,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._ttl = ttl_seconds
        self._clock = clock
        self._snapshot: ExperimentSnapshot | None = None
        self._loaded_at = -math.inf

    def now(self) -> float:
        """The catalogue's clock (`loaded_at` is on it)."""
        return self._clock()

    @property
    def loaded_at(self) -> float:
        """When the current snapshot's read started (-inf before the first)."""
        return self._loaded_at

    def fresh(self) -> ExperimentSnapshot | None:
        """The current snapshot if it is still fresh, else None (call `refresh`)."""
        if self._snapshot is not None and self._clock() - self._loaded_at < self._ttl:
            return self._snapshot
        return None

    def invalidate(self) -> None:
        """Read again on the next batch (an experiment changed in another process)."""
        self._loaded_at = -math.inf

    def refresh(self) -> ExperimentSnapshot:
        """Read the experiments again (blocking: run it in a thread from async code)."""
        started = self._clock()
        snapshot = load_snapshot(self._engine)
        self._snapshot, self._loaded_at = snapshot, started
        return snapshot
