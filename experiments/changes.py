"""Tells every process of every host, within a fraction of a second, that a definition or a key
changed somewhere, so each drops its cached config, catalogue and key identities at once.

Every change to an experiment, a metric or a key writes an audit-log row in its own transaction
(`experiments.audit`), so the log's last id is a version of everything cached: each process
reads it every `poll_seconds` (an index-only `max(id)`), which needs nothing but the database.
With Redis, the process that made a change also publishes on a channel after the commit and
every process listening acts on it at once; the poll still catches changes made where nothing
published (the command line) or while Redis was away.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import redis
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from experiments.models.audit import AuditEntry
from experiments.settings import DEFAULT_EVENT_STREAM_PREFIX

logger = logging.getLogger(__name__)


def change_channel(prefix: str) -> str:
    """The Redis pub/sub channel of changes, beside the event stream's keys under `prefix`."""
    return f"{prefix}:changes"


LAST_CHANGE = select(func.max(AuditEntry.id))


def last_change(engine: Engine) -> int:
    """The id of the newest audit-log row (0 for an empty log): the version of the definitions."""
    with engine.connect() as connection:
        found = connection.execute(LAST_CHANGE).scalar()
    return int(found or 0)


class _VersionReader:
    """`last_change` on one connection kept open, the query compiled once: a poll every tenth
    of a second through the pool and the compiler took about 2 % of an API process's time."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sql = str(LAST_CHANGE.compile(dialect=engine.dialect))
        self._connection: Any = None

    def read(self) -> int:
        if self._connection is None:
            self._connection = self._engine.raw_connection()
        try:
            cursor = self._connection.cursor()
            try:
                cursor.execute(self._sql)
                found = cursor.fetchone()[0]
            finally:
                cursor.close()
            self._connection.rollback()  # end the read transaction: the next read sees commits
        except Exception:
            connection, self._connection = self._connection, None
            connection.invalidate()  # maybe broken: the pool must not hand it out again
            raise
        return int(found or 0)

    def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()


class ChangeWatcher:
    """Calls `on_change` (from a background thread) when another process changed a definition
    or a key: at most `poll_seconds` after its commit, or at once through Redis pub/sub."""

    def __init__(
        self,
        engine: Engine,
        on_change: Callable[[], None],
        poll_seconds: float,
        redis_client: redis.Redis[bytes] | None = None,
        channel: str = change_channel(DEFAULT_EVENT_STREAM_PREFIX),
    ) -> None:
        self._engine = engine
        self._on_change = on_change
        self._poll_seconds = poll_seconds
        self._redis = redis_client
        self._channel = channel
        self._stop = threading.Event()
        self._seen = -1
        self._threads: list[threading.Thread] = []
        self._reader = _VersionReader(engine)

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._poll, name="vekst-changes", daemon=True)]
        if self._redis is not None:
            listener = threading.Thread(
                target=self._listen, args=(self._redis,), name="vekst-changes-redis", daemon=True
            )
            self._threads.append(listener)
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._reader.close()
        if self._redis is not None:
            self._redis.close()

    def announce(self) -> None:
        """Tell the other processes now (call after this process committed a change); without
        Redis, or if Redis fails, they learn it from their next poll."""
        if self._redis is None:
            return
        try:
            self._redis.publish(self._channel, b"changed")
        except (redis.RedisError, OSError) as error:
            logger.warning("change announcement failed (%s); others poll", type(error).__name__)

    def check(self) -> bool:
        """Read the version once; calls `on_change` and returns True when it moved."""
        version = self._reader.read()
        moved = self._seen >= 0 and version != self._seen
        self._seen = version
        if moved:
            self._on_change()
        return moved

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                self.check()
            except Exception as error:  # noqa: BLE001 - the database may be down; keep polling
                logger.warning("change poll failed: %s", type(error).__name__)
            self._stop.wait(self._poll_seconds)

    def _listen(self, client: redis.Redis[bytes]) -> None:
        while not self._stop.is_set():
            try:
                with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    pubsub.subscribe(self._channel)
                    while not self._stop.is_set():
                        if pubsub.get_message(timeout=0.5) is not None:
                            self._on_change()
            except (redis.RedisError, OSError) as error:
                logger.warning("change channel lost (%s); polling only", type(error).__name__)
                self._stop.wait(self._poll_seconds * 10)
