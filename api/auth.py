"""Bearer API keys with scopes. Verified keys are cached briefly so hot paths skip the database."""

from __future__ import annotations

import threading
import time

from sqlalchemy.engine import Engine
from sqlmodel import Session

from experiments.keys import find_scope, hash_key, matches_configured
from experiments.models import KeyScope
from experiments.settings import Settings


class KeyVerifier:
    """Turns a presented secret into its scope.

    A verified stored key is remembered for `key_cache_seconds` (default 1 s), so a key revoked
    by another process stops working in every worker within that time; revoking through this
    process (`forget`) takes effect at once. Set the cache to 0 to read the database every time.
    """

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings
        self._cache: dict[str, tuple[KeyScope, float]] = {}
        self._lock = threading.Lock()

    def cached_scope(self, secret: str) -> KeyScope | None:
        """The scope if known without touching the database, else None."""
        configured = self._configured_scope(secret)
        if configured is not None:
            return configured
        entry = self._cache.get(hash_key(secret))
        if entry is not None and entry[1] > time.monotonic():
            return entry[0]
        return None

    def scope(self, secret: str) -> KeyScope | None:
        """The scope of `secret`, reading the database when the cache cannot tell (blocking)."""
        cached = self.cached_scope(secret)
        if cached is not None:
            return cached
        with Session(self._engine) as session:
            scope = find_scope(session, secret)
        ttl = self._settings.key_cache_seconds
        if scope is not None and ttl > 0:
            with self._lock:
                self._cache[hash_key(secret)] = (scope, time.monotonic() + ttl)
        return scope

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()

    def _configured_scope(self, secret: str) -> KeyScope | None:
        if matches_configured(secret, self._settings.admin_key):
            return KeyScope.ADMIN
        if matches_configured(secret, self._settings.sdk_key):
            return KeyScope.SDK
        return None
