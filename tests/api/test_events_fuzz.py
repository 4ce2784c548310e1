"""Arbitrary JSON in every event field: never a 5xx, and every good event stored exactly once.

Each generated batch mixes intact events (unique ids) with copies whose one field holds an
arbitrary JSON value: NUL and lone surrogates in text and keys, integers far beyond 64 bits and
a double, deep nesting. Runs on SQLite and PostgreSQL, seeded and bounded.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from experiments.db import make_engine
from experiments.models.event import Conversion, Exposure
from experiments.settings import Settings
from tests.api.helpers import experiment_body

FIELDS = ["type", "unit_id", "event_id", "timestamp", "experiment", "variant", "name", "value"]
FIELDS += ["properties"]
hostile_text = st.text(max_size=12) | st.sampled_from(
    ["\x00", "a\x00b", "\ud800", "x\udfff", "srv-1", "", " ", "purchase"]
)
hostile_numbers = st.integers(-(10**400), 10**400) | st.floats(
    allow_nan=False, allow_infinity=False
)
scalars = st.none() | st.booleans() | hostile_numbers | hostile_text
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(hostile_text, children, max_size=3)
    ),
    max_leaves=8,
)
_ids = itertools.count()
settings_for_ci = hypothesis_settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def intact(kind: str) -> dict[str, Any]:
    event_id = f"good-{next(_ids)}"
    if kind == "exposure":
        return {
            "type": "exposure",
            "event_id": event_id,
            "unit_id": f"u-{event_id}",
            "experiment": "fuzzed",
            "variant": "one-page",
        }
    return {
        "type": "conversion",
        "event_id": event_id,
        "unit_id": f"u-{event_id}",
        "name": "purchase",
        "value": 649.0,
        "properties": {"payment": "vipps"},
    }


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[bool]]:
    """Events, and for each whether it is intact (so must be accepted)."""
    events: list[dict[str, Any]] = []
    intact_flags: list[bool] = []
    for _ in range(draw(st.integers(1, 6))):
        event = intact(draw(st.sampled_from(["exposure", "conversion"])))
        is_intact = draw(st.booleans())
        if not is_intact:
            event[draw(st.sampled_from(FIELDS))] = draw(json_values)
        events.append(event)
        intact_flags.append(is_intact)
    return events, intact_flags


def stored(settings: Settings) -> tuple[int, int]:
    """(rows, distinct event ids) over both event tables."""
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            rows = distinct = 0
            for table in (Exposure, Conversion):
                rows += connection.execute(select(func.count()).select_from(table)).scalar() or 0
                distinct += (
                    connection.execute(
                        select(func.count(table.event_id.distinct()))  # type: ignore[attr-defined]
                    ).scalar()
                    or 0
                )
    finally:
        engine.dispose()
    return rows, distinct


def test_arbitrary_json_in_every_field_never_costs_a_good_event(
    client: TestClient,
    settings: Settings,
    admin_headers: dict[str, str],
    sdk_headers: dict[str, str],
) -> None:
    client.post("/v1/experiments", json=experiment_body("fuzzed"), headers=admin_headers)
    client.post("/v1/experiments/fuzzed/start", headers=admin_headers)
    accepted_total = 0

    @settings_for_ci
    @given(batch=batches())
    def send(batch: tuple[list[dict[str, Any]], list[bool]]) -> None:
        nonlocal accepted_total
        events, intact_flags = batch
        # ensure_ascii: lone surrogates travel as escapes, as a hostile client would send them.
        body = json.dumps({"events": events}, ensure_ascii=True).encode()
        response = client.post(
            "/v1/events",
            content=body,
            headers={**sdk_headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 202, response.text
        answer = response.json()
        rejected = {rejection["index"] for rejection in answer["rejected"]}
        assert not rejected & {i for i, ok in enumerate(intact_flags) if ok}, answer
        assert answer["accepted"] + answer["duplicates"] + len(rejected) == len(events)
        accepted_total += answer["accepted"]

    send()
    rows, distinct = stored(settings)
    assert rows == distinct == accepted_total
