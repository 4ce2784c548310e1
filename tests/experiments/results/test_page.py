"""The results page as typed values: a look stored by the first release still loads, is
served as it was stored, and continues the running readings."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from experiments.db import session_scope
from experiments.models.snapshot import ResultSnapshot
from experiments.results.page import DisplayState, ResultsPage, VariantValue
from experiments.results.readings.running import stored_readings
from experiments.results.snapshots import results_as_of, serve_results
from experiments.results.sums.aggregation import GroupKey
from experiments.results.types import Verdict
from experiments.results.words.headline import display_state, headline
from tests.experiments.results.helpers import start_experiment
from tests.experiments.results.simulation import simulate_shop

# A look as the first release with stored looks (29 November 2026) wrote it: no unit, plan,
# source or currency, no words on the comparisons, no running reading beside the sequential one.
OLD_LOOK = Path(__file__).parent / "data" / "look_stored_2026_11_29.json"


def old_look() -> dict[str, Any]:
    return dict(json.loads(OLD_LOOK.read_text(encoding="utf-8")))


def store(engine: Engine, page: dict[str, Any], look: int | None = None, key: str = "exp") -> None:
    """Store `page` as look `look` (default: its own) of experiment `key`, as a release of its
    time did."""
    moment = datetime.fromisoformat(page["as_of"])
    look = page["look"] if look is None else look
    with session_scope(engine) as session:
        session.add(
            ResultSnapshot(
                experiment=key,
                look=look,
                computed_at=moment,
                as_of=moment,
                verdict=page["decision"]["verdict"],
                results={**page, "experiment": key, "look": look},
                sums={},
            )
        )


def test_an_old_look_loads_as_it_was_stored() -> None:
    stored = old_look()
    page = ResultsPage.model_validate(stored)
    assert page.as_json() == stored  # nothing added, nothing lost
    assert page.unit == "unit" and page.currency == "NOK" and page.plan is None
    assert page.decision.verdict is Verdict.KEEP_RUNNING
    assert display_state(page) is DisplayState.KEEP_RUNNING
    assert headline(page) == "Keep running"
    comparison = page.metrics[0].comparisons[0]
    assert comparison.outcome is None and comparison.sequential.intersection is None
    readings = stored_readings(page)
    reading = readings[("conversion_rate", "treatment")]
    assert (
        reading.sequential.p_value
        == stored["metrics"][0]["comparisons"][0]["sequential"]["p_value"]
    )


def test_an_old_stored_look_is_served_as_stored_and_continues_the_readings(
    engine: Engine,
) -> None:
    start_experiment(engine)
    simulate_shop(3000, uplift=0.5, seed=3).load(engine)
    stored = old_look()
    store(engine, stored)
    as_of = datetime.fromisoformat(stored["as_of"])
    with session_scope(engine) as session:
        served = serve_results(session, "exp", timedelta(hours=1), now=as_of, on_new_look=None)
    # Served as stored, with the heading every look gets when served.
    assert served.as_json() == stored | {
        "display_state": "keep_running",
        "headline": "Keep running",
    }
    with session_scope(engine) as session:
        later = results_as_of(session, "exp", as_of + timedelta(hours=6), now=as_of)
    assert later.look == stored["look"]  # the running readings start from the old look
    earlier = stored["metrics"][0]["comparisons"][0]["sequential"]["p_value"]
    running = later.metrics[0].comparisons[0].sequential
    assert running.p_value is not None and running.p_value <= earlier
    assert running.intersection is not None


def test_each_variant_value_names_its_group_without_serving_it() -> None:
    """The group key (the variant today) is a field of the page's per-variant values, set when a
    page is made and rebuilt when a look is read back; while it only repeats the variant it
    stays out of the JSON, so stored and served looks are unchanged."""
    page = ResultsPage.model_validate(old_look())
    values = page.metrics[0].variants
    assert [value.group for value in values] == [GroupKey(variant=value.key) for value in values]
    assert all("group" not in value.as_json() for value in values)
    made = VariantValue(key="b", n=10, value=0.5, group=GroupKey(variant="b"))
    assert made.as_json() == {"key": "b", "n": 10, "value": 0.5}
