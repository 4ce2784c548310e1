"""The overview of all experiments reads each one's newest stored look in one query and never
computes a look (issue 22: the list page once computed a whole look per experiment)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from experiments import definitions
from experiments.db import session_scope
from experiments.models.experiment import ExperimentStatus
from experiments.results import overview, pipeline
from tests.experiments.results.helpers import start_experiment
from tests.experiments.results.simulation import simulate_shop
from tests.experiments.results.test_page import old_look, store


@contextmanager
def counted_statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements `engine` runs while the block runs."""
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_overview_reads_the_newest_looks_in_one_query(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("looked", "twice", "unlooked"):
        start_experiment(engine, key)
    simulate_shop(600, uplift=0.5, seed=4, experiment="unlooked").load(engine)
    store(engine, old_look(), key="looked")
    store(engine, old_look(), key="twice")
    newer = old_look() | {"summary": "The newer look."}
    store(engine, newer, look=5, key="twice")

    def no_look_on_a_list(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the overview computed a look")

    monkeypatch.setattr(pipeline, "make_look", no_look_on_a_list)
    with session_scope(engine) as session:
        page = definitions.list_experiments(session, 100, 0)
        with counted_statements(engine) as statements:
            looks = overview.with_results(session, page)
    assert len(statements) == 1, statements
    assert {key: look.look for key, look in looks.items()} == {"looked": 4, "twice": 5}
    lines = {item.key: item.results for item in page.items}
    assert lines["twice"] is not None and lines["twice"].summary == "The newer look."
    looked = lines["looked"]
    assert looked is not None and looked.verdict == "keep_running"
    assert looked.units == sum(v["n"] for v in old_look()["metrics"][0]["variants"])
    assert looked.headline == "Keep running" and looked.days_running == 3.1
    unlooked = lines["unlooked"]
    assert unlooked is not None and unlooked.verdict is None and unlooked.units == 0


def test_the_list_s_five_columns_say_what_the_whole_definitions_say(engine: Engine) -> None:
    for key in ("looked", "unlooked"):
        start_experiment(engine, key)
    store(engine, old_look(), key="looked")
    with session_scope(engine) as session:
        whole = definitions.list_experiments(session, 100, 0)
        listed = definitions.list_for_overview(session, 100)
        overview.with_results(session, whole)
        overview.with_results(session, listed)
        running = definitions.list_for_overview(session, 100, ExperimentStatus.RUNNING)
        drafts = definitions.list_for_overview(session, 100, ExperimentStatus.DRAFT)
    assert listed.total == whole.total == running.total == 2 and drafts.total == 0
    assert [
        (item.key, item.name, item.status, item.primary, item.started_at, item.results)
        for item in listed.items
    ] == [
        (item.key, item.name, item.status, item.metrics.primary, item.started_at, item.results)
        for item in whole.items
    ]
