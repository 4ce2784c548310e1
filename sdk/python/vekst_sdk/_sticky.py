"""Sticky assignment: where a sticky experiment's first assignment of a unit is kept.

A store maps (experiment key, sticky version, unit id) to a variant key. The version is part of
the key, so bumping an experiment's ``sticky_version`` (a reshuffle) makes every earlier entry
unreachable at once; stores drop them as they age (least recently used out, or a TTL).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Protocol

from vekst_sdk._logging import OnceLogger

#: How many entries :class:`MemoryStickyStore` keeps by default.
DEFAULT_MEMORY_ENTRIES = 100_000


class StickyStore(Protocol):
    """Keeps a unit's variant of a sticky experiment.

    ``get`` returns the variant key stored for (experiment, version, unit), or ``None``; ``put``
    stores one (replacing any). Both are called from ``assign``, so they should be fast; an
    exception they raise is logged and counts as a miss (the unit is hashed as usual).
    """

    def get(self, experiment: str, version: int, unit_id: str) -> str | None: ...

    def put(self, experiment: str, version: int, unit_id: str, variant: str) -> None: ...


class MemoryStickyStore:
    """An in-process store of at most ``max_entries`` entries, least recently used out.

    It lives as long as the process: a restart, or another process (another server, another
    worker), starts empty. Use a shared store (``vekst_sdk.sticky_redis.RedisStickyStore``)
    where units must keep their variant across processes. Thread-safe.
    """

    def __init__(self, max_entries: int = DEFAULT_MEMORY_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max_entries = max_entries
        self._entries: OrderedDict[tuple[str, int, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, experiment: str, version: int, unit_id: str) -> str | None:
        key = (experiment, version, unit_id)
        with self._lock:
            variant = self._entries.get(key)
            if variant is not None:
                self._entries.move_to_end(key)
            return variant

    def put(self, experiment: str, version: int, unit_id: str, variant: str) -> None:
        key = (experiment, version, unit_id)
        with self._lock:
            self._entries[key] = variant
            self._entries.move_to_end(key)
            if len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class GuardedStore:
    """A store whose failures are logged (once per kind) and count as a miss, so an outage of a
    shared store falls back to hashing instead of failing ``assign``."""

    __slots__ = ("_store", "_log")

    def __init__(self, store: StickyStore, log: OnceLogger) -> None:
        self._store = store
        self._log = log

    def get(self, experiment: str, version: int, unit_id: str) -> str | None:
        try:
            variant = self._store.get(experiment, version, unit_id)
        except Exception:
            self._log.error(
                "vekst: the sticky store failed to read; hashing instead", exc_info=True
            )
            return None
        return variant if isinstance(variant, str) else None

    def put(self, experiment: str, version: int, unit_id: str, variant: str) -> None:
        try:
            self._store.put(experiment, version, unit_id, variant)
        except Exception:
            self._log.error(
                "vekst: the sticky store failed to write; the unit is not kept", exc_info=True
            )
