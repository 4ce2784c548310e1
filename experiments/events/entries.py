"""The stream entry format: a batch of events as one JSON array, with the receive time once.

An entry has the fields `r` (receive time, integer microseconds since the epoch, UTC), `events`
(a JSON array of at most `EVENTS_PER_ENTRY` events, each an object with the typed event's field
names, its timestamp as RFC 3339 text and its `source`; an event without one, written before
sources were recorded, came with an sdk key; an exposure with attributes has an `attributes`
object, one without has no such field) and, when the append script found some client ids
already claimed, `skip` (their comma-separated positions in the array: repeats, not stored).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import orjson

from experiments.events.store import ReceivedEvent
from experiments.events.types import (
    AttributedExposure,
    ConversionEvent,
    Event,
    ExposureEvent,
    from_micros,
    micros,
)
from experiments.models.api_key import EVENT_SOURCES, EventSource

# One entry holds at most this many events, so one read of 100 entries stays bounded.
EVENTS_PER_ENTRY = 1000
RECEIVED_FIELD = b"r"
EVENTS_FIELD = b"events"
SKIP_FIELD = b"skip"
_SOURCES: dict[object, EventSource] = {source: source for source in EVENT_SOURCES.values()}


_ENCODER = msgspec.json.Encoder()


def encode_events(events: Sequence[Event]) -> bytes:
    """One entry's `events` value: msgspec writes the event structs directly, in C."""
    return _ENCODER.encode(events)


def encode_received(received_at: datetime) -> int:
    """One entry's `r` value."""
    return micros(received_at)


def decode_entry(fields: Mapping[bytes, bytes]) -> list[ReceivedEvent]:
    """The events of one entry (skipped positions left out), each with its receive time.

    Raises ValueError, KeyError or TypeError when `fields` is not an entry of events.
    """
    received_at = from_micros(int(fields[RECEIVED_FIELD]))
    raw_events: list[Any] = orjson.loads(fields[EVENTS_FIELD])
    skip_text = fields.get(SKIP_FIELD)
    skipped = {int(index) for index in skip_text.split(b",")} if skip_text else set()
    received: list[ReceivedEvent] = []
    for index, raw in enumerate(raw_events):
        if index not in skipped:
            received.append((_event(raw), received_at))
    return received


@dataclass(frozen=True, slots=True)
class UnreadableEvent:
    """One event of an entry that cannot be turned back into a typed event, and why; `raw` is
    JSON (what the entry held, as a string when it was not JSON)."""

    raw: bytes
    error: str


def split_entry(fields: Mapping[bytes, bytes]) -> tuple[list[ReceivedEvent], list[UnreadableEvent]]:
    """Like `decode_entry`, but an event that cannot be read comes back apart, so the others
    of its entry are still stored.

    Raises ValueError, KeyError or TypeError only when the entry as a whole is unreadable (no
    receive time, no `events`, or an `events` value that is not a JSON array).
    """
    received_at = from_micros(int(fields[RECEIVED_FIELD]))
    text = fields[EVENTS_FIELD]
    skip_text = fields.get(SKIP_FIELD)
    skipped = {int(index) for index in skip_text.split(b",")} if skip_text else set()
    quick = _decode_whole(text)
    if quick is not None:
        kept = [event for index, event in enumerate(quick) if index not in skipped]
        return [(event, received_at) for event in kept], []
    try:
        raw_events: Any = orjson.loads(text)
    except orjson.JSONDecodeError:
        # orjson refuses escapes of lone surrogates; the standard parser reads them, so the
        # other events of the entry survive and the bad one is refused on its own.
        raw_events = json.loads(text)
    if not isinstance(raw_events, list):
        raise TypeError("an entry's events must be a JSON array")
    received: list[ReceivedEvent] = []
    unreadable: list[UnreadableEvent] = []
    for index, raw in enumerate(raw_events):
        if index in skipped:
            continue
        try:
            received.append((_event(raw), received_at))
        except (ValueError, KeyError, TypeError) as error:
            unreadable.append(UnreadableEvent(_dump(raw), describe_error(error)))
    return received, unreadable


class _EntryEvent(msgspec.Struct, gc=False):
    """An event of an entry as written (`encode_events`), its types checked in C."""

    event_id: str
    unit_id: str
    timestamp: datetime
    experiment: str | None = None
    variant: str | None = None
    name: str | None = None
    value: float | None = None
    properties: dict[str, Any] | None = None
    attributes: dict[str, Any] | None = None
    source: EventSource = "sdk"


_ENTRY_DECODER = msgspec.json.Decoder(list[_EntryEvent])


def _decode_whole(text: bytes) -> list[Event] | None:
    """The events of an entry decoded at once, when every one of them is readable (else None:
    read them one by one, so only the unreadable ones are moved aside)."""
    try:
        decoded = _ENTRY_DECODER.decode(text)
    except msgspec.DecodeError:
        return None
    events: list[Event] = []
    for item in decoded:
        event = _typed(item)
        if event is None:
            return None
        events.append(event)
    return events


def _typed(item: _EntryEvent) -> Event | None:
    """What `_event` makes of the same event (None where it would refuse it)."""
    if item.timestamp.tzinfo is None:
        return None
    if item.experiment is not None:
        if item.variant is None or item.name is not None:
            return None
        fields = (item.event_id, item.unit_id, item.timestamp, item.experiment, item.variant)
        if item.attributes is None:
            return ExposureEvent(*fields, item.source)
        return AttributedExposure(*fields, item.source, item.attributes)
    if item.name is None or item.variant is not None or item.attributes is not None:
        return None
    return ConversionEvent(
        item.event_id,
        item.unit_id,
        item.timestamp,
        item.name,
        item.value,
        item.properties,
        item.source,
    )


def describe_error(error: BaseException, limit: int = 300) -> str:
    """One line naming an error's class and message, short enough for a log or a stream field."""
    message = " ".join(str(error).split())
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return text[:limit]


def dump_event(event: Event) -> bytes:
    """An event as a one-event `events` array (ensure_ascii: even lone surrogates survive)."""
    try:
        return encode_events([event])
    except (msgspec.EncodeError, UnicodeEncodeError):  # text that is not Unicode
        return json.dumps([_as_json(event)], default=str).encode()


def _as_json(event: Event) -> dict[str, Any]:
    return {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name in event.__struct_fields__
        if (value := getattr(event, name)) is not None
    }


def _dump(raw: object) -> bytes:
    return json.dumps(raw, default=str).encode()


def _event(raw: Mapping[str, Any]) -> Event:
    timestamp = datetime.fromisoformat(raw["timestamp"])
    if timestamp.tzinfo is None:
        raise ValueError("an encoded timestamp must carry its offset")
    if "experiment" in raw:
        fields = (
            _text(raw["event_id"]),
            _text(raw["unit_id"]),
            timestamp,
            _text(raw["experiment"]),
            _text(raw["variant"]),
            _source(raw),
        )
        attributes = raw.get("attributes")
        if attributes is None:
            return ExposureEvent(*fields)
        if type(attributes) is not dict:
            raise TypeError("encoded attributes must be an object")
        return AttributedExposure(*fields, attributes)
    value = raw.get("value")
    properties = raw.get("properties")
    if value is not None:
        if type(value) is not float and type(value) is not int:
            raise TypeError("an encoded value must be a number")
        value = float(value)
    if properties is not None and type(properties) is not dict:
        raise TypeError("encoded properties must be an object")
    return ConversionEvent(
        _text(raw["event_id"]),
        _text(raw["unit_id"]),
        timestamp,
        _text(raw["name"]),
        value,
        properties,
        _source(raw),
    )


def _source(raw: Mapping[str, Any]) -> EventSource:
    source = raw.get("source", "sdk")
    found = _SOURCES.get(source) if type(source) is str else None
    if found is None:
        raise ValueError(f"an encoded source must be one of {', '.join(_SOURCES.values())}")
    return found


def _text(value: object) -> str:
    if type(value) is not str:
        raise TypeError("an encoded event field must be text")
    return value
