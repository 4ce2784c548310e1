"""The batch decoded whole (`decoding`) accepts exactly what validation accepts, as the same
typed events, and leaves every other batch to validation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.events.decoding import decode_batch, typed_events
from experiments.events.types import AttributedExposure, Event, KnownExperiment
from experiments.events.validation import validate_batch
from tests.experiments.events.test_validation import (
    CATALOG,
    CONVERSION_FAULTS,
    EXPOSURE_FAULTS,
    FAULTS,
    NOW,
    WINDOW,
    odd_values,
    valid_events,
)


def _quick(raw_events: list[Any], catalog: Any = CATALOG) -> list[Event] | None:
    body = json.dumps({"events": raw_events}).encode()
    wire = decode_batch(body)
    return None if wire is None else typed_events(wire, WINDOW, catalog, "server")


def _without_server_ids(events: list[Event]) -> list[object]:
    # Server-made ids are random: compare their shape, not their value.
    return [
        (type(event), len(event.event_id), event.__class__(**{**_fields(event), "event_id": ""}))
        if event.event_id.startswith("srv-")
        else event
        for event in events
    ]


def _fields(event: Event) -> dict[str, Any]:
    return {name: getattr(event, name) for name in event.__struct_fields__}


def _validated(raw_events: list[Any], catalog: Any = CATALOG) -> tuple[list[Event], int]:
    # What the full path makes of the same body (parsed again, as the intake does).
    parsed = json.loads(json.dumps({"events": raw_events}))["events"]
    batch = validate_batch(parsed, WINDOW, catalog, "server")
    return batch.events, len(batch.rejected)


@settings(max_examples=20)
@given(st.lists(valid_events, min_size=1, max_size=10))
def test_a_valid_batch_is_decoded_whole_into_the_events_validation_makes(
    raw_events: list[dict[str, Any]],
) -> None:
    quick = _quick(raw_events)
    validated, rejected = _validated(raw_events)
    assert rejected == 0
    assert quick is not None
    assert _without_server_ids(quick) == _without_server_ids(validated)


@settings(max_examples=30)
@given(st.lists(valid_events, min_size=1, max_size=5), st.data())
def test_a_batch_with_a_bad_event_is_left_to_validation(
    raw_events: list[dict[str, Any]], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(raw_events) - 1))
    raw = raw_events[index]
    extra = CONVERSION_FAULTS if raw["type"] == "conversion" else EXPOSURE_FAULTS
    field, bad, _ = data.draw(st.sampled_from([*FAULTS, *extra]))
    raw_events[index] = {**raw, field: bad}
    assert _validated(raw_events)[1] == 1
    assert _quick(raw_events) is None


@settings(max_examples=50)
@given(valid_events, st.text(max_size=12), odd_values)
def test_it_never_accepts_what_validation_refuses(raw: dict[str, Any], field: str, value: Any):
    raw = {**raw, field: value}
    quick = _quick([raw])
    validated, rejected = _validated([raw])
    if quick is not None:
        assert rejected == 0
        assert _without_server_ids(quick) == _without_server_ids(validated)


EXPOSURE = {"type": "exposure", "unit_id": "u", "experiment": "cta-colour", "variant": "blue"}
CONVERSION = {"type": "conversion", "unit_id": "u", "name": "purchase"}


@pytest.mark.parametrize(
    "body",
    [
        # A slug rule written with `$` would let a final newline through.
        json.dumps({"events": [{**CONVERSION, "name": "purchase\n"}]}),
        json.dumps({"events": [{**EXPOSURE, "variant": "blue\n"}]}),
        # NUL comes only escaped; validation names it.
        json.dumps({"events": [{**CONVERSION, "unit_id": "a\x00b"}]}),
        # The last of two `type`s is the one validation reads.
        '{"events": [{"type": "exposure", "unit_id": "u", "name": "x", "type": "conversion"}]}',
        json.dumps({"events": [{**CONVERSION, "value": 2**70}]}),
        json.dumps({"events": [{**CONVERSION, "properties": {"n": 2**63}}]}),
        json.dumps({"events": [{**EXPOSURE, "attributes": {"n": 2**70}}]}),
        json.dumps({"events": [{**CONVERSION, "event_id": "srv-0123"}]}),
        json.dumps({"events": [{**CONVERSION, "unit_id": " \t"}]}),
        json.dumps({"events": [{**CONVERSION, "timestamp": True}]}),
        json.dumps({"events": [{**CONVERSION, "source": "server"}]}),
        json.dumps({"events": [EXPOSURE] * 10_001}),
        json.dumps({"events": [EXPOSURE], "sdk_key": "x"}),
        json.dumps([EXPOSURE]),
    ],
)
def test_what_it_leaves_to_validation(body: str) -> None:
    wire = decode_batch(body.encode())
    assert wire is None or typed_events(wire, WINDOW, CATALOG, "sdk") is None


def test_it_keeps_only_the_dimensions_and_reads_each_target_once() -> None:
    looked_up: list[str] = []

    class CountingCatalog:
        def get(self, key: str) -> KnownExperiment | None:
            looked_up.append(key)
            return KnownExperiment("running", frozenset({"a", "b"}), frozenset({"device"}))

    exposure = {"type": "exposure", "unit_id": "u", "experiment": "checkout", "variant": "a"}
    attributed = {**exposure, "attributes": {"device": "mobile", "email": "x@example.com"}}
    events = _quick([exposure, attributed] * 100, CountingCatalog())
    assert events is not None and len(events) == 200
    assert isinstance(events[1], AttributedExposure)
    assert events[1].attributes == {"device": "mobile"}
    assert len(looked_up) <= 2  # per distinct (experiment, variant), not per event
    assert events[0].timestamp == NOW
