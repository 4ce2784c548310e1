"""Group commit on SQLite: concurrent batches share transactions, each keeps exact counts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from experiments.db import make_engine
from experiments.events.group_commit import GroupCommitWriter
from experiments.events.store import ReceivedEvent, StoreOutcome
from experiments.models.event import Conversion, Exposure
from tests.experiments.events.helpers import exposures, purchases

RECEIVED = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


def test_concurrent_overlapping_batches_are_counted_exactly(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    # Small transactions, so batches are both shared and split across transactions.
    writer = GroupCommitWriter(engine, max_events=250)
    # 16 batches of 100 events over 400 distinct ids: each id is sent four times.
    batches: list[list[ReceivedEvent]] = []
    for number in range(16):
        start = (number % 4) * 50
        chosen = exposures(200)[start : start + 50] + purchases(200)[start : start + 50]
        batches.append([(event, RECEIVED) for event in chosen])
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes: list[StoreOutcome] = list(pool.map(writer.store, batches))
    assert all(outcome.inserted + outcome.duplicates == 100 for outcome in outcomes)
    assert sum(outcome.inserted for outcome in outcomes) == 400
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Exposure)).scalar() == 200
        assert connection.execute(select(func.count()).select_from(Conversion)).scalar() == 200
    engine.dispose()


def test_a_failed_transaction_fails_every_batch_in_it(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'unmigrated.db'}")  # no tables
    writer = GroupCommitWriter(engine)
    batch = [(event, RECEIVED) for event in purchases(3)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(writer.store, batch) for _ in range(4)]
        for future in futures:
            with pytest.raises(OperationalError, match="no such table"):
                future.result()
    engine.dispose()


def test_repeats_within_a_batch_and_an_empty_batch(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    event = purchases(1)[0]
    outcome = GroupCommitWriter(engine).store([(event, RECEIVED), (event, RECEIVED)])
    assert outcome == StoreOutcome(inserted=1, duplicates=1)
    assert GroupCommitWriter(engine).store([]) == StoreOutcome(inserted=0, duplicates=0)
    engine.dispose()
