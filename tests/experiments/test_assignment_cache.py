"""`POST /v1/assign`'s evaluator cache and holdouts: an ended holdout is served by no request
after its `ends_at`, with nothing else changed (a clock of the test's own stands for time)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from api.cli.demo import demo_experiment
from experiments import assignment, holdouts, lifecycle, sdk_config
from experiments.assignment import EvaluatorCache
from experiments.db import make_engine, session_scope
from experiments.definitions import create_experiment
from experiments.models.experiment import ExperimentCreate
from experiments.models.holdout import HoldoutCreate
from experiments.sdk_config import build_sdk_config

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
EARLY_END = START + timedelta(days=30)
LATE_END = START + timedelta(days=90)
A_YEAR = 365 * 86400.0  # a max age the test never reaches: only `expires_at` rebuilds


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now.timestamp()


def holdout(key: str, ends_at: datetime, unit_type: str = "visitor") -> HoldoutCreate:
    return HoldoutCreate(
        key=key,
        name=key,
        share=0.05,
        experiments="all_new",
        ends_at=ends_at,
        unit_type=unit_type,
    )


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    """A running experiment covered by a visitor holdout ending on EARLY_END, and a subscriber
    holdout ending on LATE_END."""
    engine = make_engine(sqlite_url)
    with session_scope(engine) as session:
        holdouts.create_holdout(session, holdout("spring", EARLY_END), now=START)
        holdouts.create_holdout(session, holdout("letters", LATE_END, "subscriber"), now=START)
        create_experiment(session, ExperimentCreate.model_validate(demo_experiment("checkout")))
        lifecycle.start_experiment(session, "checkout").started_at = START + timedelta(days=1)
    yield engine
    engine.dispose()


def test_the_config_expires_when_its_first_holdout_ends(engine: Engine) -> None:
    with session_scope(engine) as session:
        served = build_sdk_config(session, START + timedelta(days=2))
        assert served.expires_at == EARLY_END
        assert [h["key"] for h in served.document["holdouts"]] == ["letters", "spring"]
        later = build_sdk_config(session, EARLY_END)
        assert later.expires_at == LATE_END and later.etag != served.etag
        assert [h["key"] for h in later.document["holdouts"]] == ["letters"]
        assert build_sdk_config(session, LATE_END).expires_at is None
        holdouts.stop_holdout(session, "letters", now=START + timedelta(days=2))
        assert build_sdk_config(session, START + timedelta(days=2)).expires_at == EARLY_END


def test_an_ended_holdout_leaves_the_cached_evaluator_at_its_end(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[dict[str, Any]] = []
    real_build = sdk_config.build_sdk_config

    def spy(*args: Any, **kwargs: Any) -> Any:
        config = real_build(*args, **kwargs)
        built.append(config.document)
        return config

    monkeypatch.setattr(assignment, "build_sdk_config", spy)
    clock = Clock(START + timedelta(days=2))
    cache = EvaluatorCache(engine, max_age_seconds=A_YEAR, clock=clock)
    first = cache.load()
    assert [h["key"] for h in built[-1]["holdouts"]] == ["letters", "spring"]
    clock.now = EARLY_END - timedelta(microseconds=1)
    assert cache.fresh() is first and len(built) == 1  # nothing changed: no rebuild
    clock.now = EARLY_END
    assert cache.fresh() is None
    second = cache.load()
    assert second is not first and [h["key"] for h in built[-1]["holdouts"]] == ["letters"]
    assert cache.fresh() is second and cache.load() is second and len(built) == 2
    clock.now = LATE_END + timedelta(days=1)
    assert cache.fresh() is None
    third = cache.load()
    assert "holdouts" not in built[-1]
    # Without holdouts the config never expires by itself.
    clock.now += timedelta(days=3650)
    assert cache.fresh() is third and len(built) == 3
