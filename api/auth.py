"""Bearer API keys with scopes. Verified keys are cached briefly so hot paths skip the database."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from experiments.audit import ENVIRONMENT_ADMIN_KEY, ENVIRONMENT_SDK_KEY
from experiments.keys import KeyIdentity, find_key, hash_key, matches_configured
from experiments.models.api_key import KeyScope
from experiments.settings import Settings


class KeyVerifier:
    """Turns a presented secret into its identity (scope, id and name).

    A verified stored key is remembered for `key_cache_seconds` (default 1 s) at most, as
    `clock` measures seconds; a key revoked anywhere is forgotten sooner: the change watcher
    (`experiments.changes`) calls `forget` when it sees any change, a revocation included. Set
    the cache to 0 to read the database every time.
    """

    def __init__(
        self, engine: Engine, settings: Settings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._clock = clock
        self._cache: dict[str, tuple[KeyIdentity, float]] = {}
        self._lock = threading.Lock()
        self._generation = 0  # moves on each `forget`, so a read begun before one is not kept

    def cached_identity(self, secret: str) -> KeyIdentity | None:
        """The identity if known without touching the database, else None."""
        configured = self._configured_identity(secret)
        if configured is not None:
            return configured
        entry = self._cache.get(hash_key(secret))
        if entry is not None and entry[1] > self._clock():
            return entry[0]
        return None

    def identity(self, secret: str) -> KeyIdentity | None:
        """The identity of `secret`, reading the database when the cache cannot tell
        (blocking); None for an unknown or revoked key."""
        cached = self.cached_identity(secret)
        if cached is not None:
            return cached
        generation = self._generation
        with Session(self._engine) as session:
            identity = find_key(session, secret)
        ttl = self._settings.key_cache_seconds
        if identity is not None and ttl > 0:
            with self._lock:
                if generation != self._generation:
                    return identity
                self._cache[hash_key(secret)] = (identity, self._clock() + ttl)
        return identity

    def scope(self, secret: str) -> KeyScope | None:
        identity = self.identity(secret)
        return None if identity is None else identity.scope

    def forget(self) -> None:
        """Drop every cached identity (something changed, maybe a key was revoked, here or in
        another process)."""
        with self._lock:
            self._generation += 1
            self._cache.clear()

    def _configured_identity(self, secret: str) -> KeyIdentity | None:
        if matches_configured(secret, self._settings.admin_key):
            return KeyIdentity(KeyScope.ADMIN, ENVIRONMENT_ADMIN_KEY)
        if matches_configured(secret, self._settings.sdk_key):
            return KeyIdentity(KeyScope.SDK, ENVIRONMENT_SDK_KEY)
        return None
