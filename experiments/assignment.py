"""Server-side assignment (`POST /v1/assign`) with the SDK's evaluator, so both agree exactly.

Sticky experiments keep each unit's first variant in a sticky store: Redis (shared by every
worker and server) when `VEKST_REDIS_URL` is set, else each worker process's own memory (at most
100,000 units, least recently used out; a restart or another worker forgets them).

The compiled config is kept in memory and rebuilt at most every `max_age_seconds`, or at once
after a definition changes in this process, so an assign request touches no database. A request
naming an experiment the cached config does not serve rebuilds it once (`reload`), so an
experiment started through another worker process is served at once, not up to a second later.
A config serving holdouts is also rebuilt once the first of their `ends_at` passes (its
`expires_at`): an ended holdout applies to no request after its end, with nothing else changed.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from experiments.db import session_scope
from experiments.sdk_config import build_sdk_config
from experiments.settings import Settings
from vekst_sdk.spec import (
    Assignment,
    Evaluator,
    MemoryStickyStore,
    RedisStickyStore,
    StickyStore,
    thaw_payload,
)


def sticky_store(settings: Settings) -> StickyStore:
    """Where `/v1/assign` keeps sticky assignments: Redis under `<event_stream_prefix>:sticky:`
    when configured, else this process's memory."""
    if settings.redis_url:
        prefix = f"{settings.event_stream_prefix}:sticky:"
        return RedisStickyStore.from_url(settings.redis_url, prefix=prefix)
    return MemoryStickyStore()


class EvaluatorCache:
    """The current config as a compiled `Evaluator`, refreshed from the database when stale;
    `clock` is the wall clock (POSIX seconds) the config's holdouts are read and expire by."""

    def __init__(
        self,
        engine: Engine,
        max_age_seconds: float = 1.0,
        store: StickyStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self.store = MemoryStickyStore() if store is None else store
        # A shared store is reached over the network: assign off the event loop then.
        self.store_blocks = not isinstance(self.store, MemoryStickyStore)
        self._max_age = max_age_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._evaluator: Evaluator | None = None
        self._loaded_at: float | None = None  # None: to be rebuilt (whatever the max age)
        self._expires_at: float | None = None  # POSIX seconds: a float compares fastest
        self._generation = 0  # moves on each invalidation, so a read begun before one is stale

    def fresh(self) -> Evaluator | None:
        """The cached evaluator if it is young enough and no holdout it serves has ended, else
        None (then call `load`)."""
        loaded_at = self._loaded_at
        if self._evaluator is None or loaded_at is None:
            return None
        if time.monotonic() - loaded_at >= self._max_age:
            return None
        if self._expires_at is not None and self._clock() >= self._expires_at:
            return None
        return self._evaluator

    def load(self) -> Evaluator:
        """Rebuild from the database (blocking)."""
        with self._lock:
            cached = self.fresh()
            if cached is not None:
                return cached
            generation = self._generation
            with session_scope(self._engine) as session:
                config = build_sdk_config(session, datetime.fromtimestamp(self._clock(), UTC))
            # Stored definitions were validated on the way in; strict=False keeps one bad row
            # from stopping assignment for every other experiment.
            self._evaluator = Evaluator(config.document, strict=False, sticky_store=self.store)
            expires_at = config.expires_at
            self._expires_at = None if expires_at is None else expires_at.timestamp()
            self._loaded_at = time.monotonic() if generation == self._generation else None
            return self._evaluator

    def reload(self, seen: Evaluator) -> Evaluator:
        """Rebuild from the database unless another thread did since `seen` was handed out
        (blocking); concurrent misses share one rebuild."""
        with self._lock:
            if self._evaluator is not seen and self._evaluator is not None:
                return self._evaluator
            self._loaded_at = None
        return self.load()

    def invalidate(self) -> None:
        """Rebuild on the next request (a definition changed, here or in another process)."""
        self._generation += 1
        self._loaded_at = None


def assign_all(
    evaluator: Evaluator,
    unit_id: str,
    attributes: Mapping[str, Any] | None,
    experiment_keys: list[str] | None,
) -> dict[str, Assignment]:
    """Assign the unit in the named experiments, or in every experiment of the config."""
    keys = experiment_keys if experiment_keys is not None else sorted(evaluator.experiment_keys)
    return {key: evaluator.assign(key, unit_id, attributes) for key in keys}


def holdout_exposures(
    evaluator: Evaluator, unit_id: str, assignments: Mapping[str, Assignment]
) -> dict[str, str]:
    """The unit's holdout exposures (holdout key -> group) from these assignments."""
    found = (evaluator.holdout_exposure(unit_id, a) for a in assignments.values())
    return {held.experiment: held.variant for held in found if held is not None}


def exposed_keys(assignments: Mapping[str, Assignment], held: Mapping[str, str]) -> list[str]:
    """The experiments (then the holdouts) whose exposures `exposure_batch` records, in order."""
    keys = [key for key, a in assignments.items() if a.in_experiment and a.variant is not None]
    return keys + list(held)


def exposure_batch(
    unit_id: str,
    assignments: Mapping[str, Assignment],
    attributes: Mapping[str, Any] | None = None,
    held: Mapping[str, str] | None = None,
) -> bytes | None:
    """The `POST /v1/events` body recording the unit's exposures, or None when it has none.
    Each carries `attributes` (the intake keeps those its experiment names as dimensions);
    `held` (holdout key -> group) adds the unit's holdout exposures, without attributes.

    Event ids are derived from (experiment, variant, unit), so asking again for the same unit
    records nothing new: the event store reports the repeat as a duplicate (the attributes of
    the first exposure stay).
    """
    exposed = [
        (key, assignment.variant, attributes)
        for key, assignment in assignments.items()
        if assignment.in_experiment and assignment.variant is not None
    ]
    exposed += [(key, group, None) for key, group in (held or {}).items()]
    events = []
    for key, variant, kept in exposed:
        digest = hashlib.sha256(f"{key}\0{variant}\0{unit_id}".encode()).hexdigest()
        events.append(
            {
                "event_id": f"assign-{digest[:48]}",
                "type": "exposure",
                "unit_id": unit_id,
                "experiment": key,
                "variant": variant,
                **({"attributes": kept} if kept else {}),
            }
        )
    return json.dumps({"events": events}).encode() if events else None


def assignment_json(assignment: Assignment) -> dict[str, Any]:
    return {
        "variant": assignment.variant,
        "payload": thaw_payload(assignment.payload),
        "in_experiment": assignment.in_experiment,
    }
