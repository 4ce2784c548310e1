"""The change watcher sees a change committed by any process (the audit log's last id moved),
and with Redis hears it at once."""

from __future__ import annotations

import threading
import uuid

import pytest

from experiments import definitions
from experiments.changes import ChangeWatcher, last_change
from experiments.db import make_engine, session_scope
from experiments.events.streams import sync_redis
from experiments.models.experiment import ExperimentCreate
from tests.api.helpers import experiment_body


def _create(url: str, key: str) -> None:
    engine = make_engine(url)
    with session_scope(engine) as session:
        definitions.create_experiment(
            session, ExperimentCreate.model_validate(experiment_body(key))
        )
    engine.dispose()


def test_a_committed_change_moves_the_version(database_url: str) -> None:
    engine = make_engine(database_url)
    seen: list[int] = []
    watcher = ChangeWatcher(engine, lambda: seen.append(1), poll_seconds=60)
    try:
        assert last_change(engine) == 0
        assert watcher.check() is False  # the first read only learns the version
        _create(database_url, "one")
        assert watcher.check() is True
        assert watcher.check() is False
        assert seen == [1]
    finally:
        watcher.stop()
        engine.dispose()


@pytest.mark.redis
def test_an_announcement_arrives_through_redis(sqlite_url: str, redis_url: str) -> None:
    engine = make_engine(sqlite_url)
    heard = threading.Event()
    channel = f"{{vekst-test-{uuid.uuid4().hex[:10]}}}:changes"
    listener = ChangeWatcher(engine, heard.set, 60, sync_redis(redis_url, 1.0), channel)
    speaker = ChangeWatcher(engine, lambda: None, 60, sync_redis(redis_url, 1.0), channel)
    listener.start()
    try:
        for _ in range(50):  # until the listener has subscribed
            speaker.announce()
            if heard.wait(0.1):
                break
        assert heard.is_set()
    finally:
        listener.stop()
        engine.dispose()
