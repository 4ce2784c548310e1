"""Stream entries: a batch survives encoding exactly; skipped repeats are left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.events.entries import (
    EVENTS_FIELD,
    RECEIVED_FIELD,
    SKIP_FIELD,
    _event,
    decode_entry,
    dump_event,
    encode_events,
    encode_received,
    split_entry,
)
from experiments.events.types import ConversionEvent, Event, ExposureEvent
from experiments.events.validation import validate_event
from tests.experiments.events.helpers import exposures, purchases
from tests.experiments.events.test_validation import CATALOG, WINDOW, valid_events

RECEIVED = datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


def entry(events: list[Event], skip: bytes | None = None) -> dict[bytes, bytes]:
    fields = {
        RECEIVED_FIELD: str(encode_received(RECEIVED)).encode(),
        EVENTS_FIELD: encode_events(events),
    }
    if skip is not None:
        fields[SKIP_FIELD] = skip
    return fields


def test_events_round_trip_exactly() -> None:
    oslo = timezone(timedelta(hours=1))
    events = [
        *exposures(3),
        *purchases(2),
        ConversionEvent("c", "u", datetime(2026, 5, 6, 8, 0, 0, 1, tzinfo=oslo), "refund"),
        ConversionEvent("d", "u", RECEIVED, "purchase", 649.0, {"k": None, "b": True, "n": 1}),
    ]
    decoded = decode_entry(entry(events))
    assert decoded == [(event, RECEIVED) for event in events]


def test_skipped_positions_are_left_out() -> None:
    events = exposures(5)
    decoded = decode_entry(entry(events, b"0,3"))
    assert [event for event, _ in decoded] == [events[1], events[2], events[4]]


@pytest.mark.parametrize(
    "fields",
    [
        {EVENTS_FIELD: b"[]"},
        {RECEIVED_FIELD: b"1", EVENTS_FIELD: b"not json"},
        {RECEIVED_FIELD: b"1", EVENTS_FIELD: b'[{"event_id": 1}]'},
        {RECEIVED_FIELD: b"1", EVENTS_FIELD: b'[{"timestamp": "2026-01-01T00:00:00"}]'},
        {b"junk": b"not an event"},
    ],
)
def test_what_is_not_an_entry_raises(fields: dict[bytes, bytes]) -> None:
    with pytest.raises((ValueError, KeyError, TypeError)):
        decode_entry(fields)


def test_the_source_travels_and_an_entry_from_before_sources_is_an_sdk_one() -> None:
    events: list[Event] = [
        ExposureEvent("x", "u", RECEIVED, "checkout", "a", "admin"),
        ConversionEvent("p", "u", RECEIVED, "purchase", 649.0, None, "server"),
    ]
    assert [event.source for event, _ in decode_entry(entry(events))] == ["admin", "server"]
    # A dead letter's `events` (one event) put back on the stream keeps its source.
    letter = entry([])
    letter[EVENTS_FIELD] = dump_event(events[1])
    assert decode_entry(letter) == [(events[1], RECEIVED)]
    # Entries appended by an older API carry no source: their events came with sdk keys.
    older = entry([])
    older[EVENTS_FIELD] = encode_events(events).replace(b',"source":"admin"', b"")
    assert [event.source for event, _ in decode_entry(older)] == ["sdk", "server"]


@pytest.mark.parametrize("source", [b'"root"', b"1", b"null", b'"SERVER"'])
def test_an_event_of_an_unknown_source_is_unreadable_alone(source: bytes) -> None:
    events = purchases(2)
    fields = entry(events)
    fields[EVENTS_FIELD] = fields[EVENTS_FIELD].replace(b'"source":"sdk"', b'"source":' + source, 1)
    readable, unreadable = split_entry(fields)
    assert [event for event, _ in readable] == events[1:]
    assert len(unreadable) == 1 and "source" in unreadable[0].error


@settings(max_examples=40)
@given(st.lists(valid_events, min_size=1, max_size=8), st.sets(st.integers(0, 7)))
def test_an_entry_read_whole_gives_what_reading_each_event_gives(
    raw_events: list[dict[str, Any]], skipped: set[int]
) -> None:
    events = [validate_event(raw, WINDOW, CATALOG) for raw in raw_events]
    assert all(not isinstance(event, tuple) for event in events)
    skip = ",".join(str(i) for i in sorted(skipped)).encode() or None
    fields = entry(events, skip)  # type: ignore[arg-type]
    one_by_one = [
        (_event(raw), RECEIVED)
        for index, raw in enumerate(orjson.loads(fields[EVENTS_FIELD]))
        if index not in skipped
    ]
    assert split_entry(fields) == (one_by_one, [])
    assert decode_entry(fields) == one_by_one


@pytest.mark.parametrize(
    "event",
    [
        b'{"event_id":"e","unit_id":"u","timestamp":"2026-05-06T07:08:09","name":"x"}',
        b'{"event_id":"e","unit_id":"u","timestamp":"2026-05-06T07:08:09Z","experiment":null,'
        b'"variant":"a","name":"x"}',
        b'{"event_id":"e","unit_id":"u","timestamp":"2026-05-06T07:08:09Z","experiment":"x"}',
        b'{"event_id":"e","unit_id":"u","timestamp":"2026-05-06T07:08:09Z","name":"x",'
        b'"value":true}',
    ],
)
def test_an_unreadable_event_is_still_moved_aside_alone(event: bytes) -> None:
    good = encode_events(purchases(1))
    fields = {RECEIVED_FIELD: b"1", EVENTS_FIELD: good[:-1] + b"," + event + b"]"}
    readable, unreadable = split_entry(fields)
    assert len(readable) == 1 and len(unreadable) == 1
