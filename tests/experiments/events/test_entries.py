"""Stream entries: a batch survives encoding exactly; skipped repeats are left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from experiments.events.entries import (
    EVENTS_FIELD,
    RECEIVED_FIELD,
    SKIP_FIELD,
    decode_entry,
    encode_events,
    encode_received,
)
from experiments.events.types import ConversionEvent, Event
from tests.experiments.events.helpers import exposures, purchases

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
