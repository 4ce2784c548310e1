"""The typed events that passed validation, and how they travel through a Redis Stream.

An event on the wire is a JSON object (see `validation`); once valid it is an `ExposureEvent` or
a `ConversionEvent` with its `event_id` fixed, so every later step (buffer, worker, store) handles
the same id and a redelivery can never be stored twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import orjson

EXPOSURE_FIELDS = frozenset({"event_id", "type", "unit_id", "timestamp", "experiment", "variant"})
CONVERSION_FIELDS = frozenset(
    {"event_id", "type", "unit_id", "timestamp", "name", "value", "properties"}
)


@dataclass(frozen=True, slots=True)
class FieldError:
    """One broken rule: `field` names the event's field, `rule` says what it must be."""

    field: str
    rule: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "rule": self.rule}


# Events are not frozen dataclasses: a frozen __init__ costs five times as much, and intake
# builds one per event on its hot path. Treat them as read-only all the same.
@dataclass(slots=True)
class ExposureEvent:
    """A unit saw a variant of an experiment."""

    event_id: str
    unit_id: str
    timestamp: datetime
    experiment: str
    variant: str


@dataclass(slots=True)
class ConversionEvent:
    """A unit did something (`name`), maybe worth a `value` such as revenue."""

    event_id: str
    unit_id: str
    timestamp: datetime
    name: str
    value: float | None = None
    properties: dict[str, Any] | None = None


Event = ExposureEvent | ConversionEvent


@dataclass(frozen=True, slots=True)
class KnownExperiment:
    """What the exposure check needs to know about one experiment."""

    status: str
    variants: frozenset[str]


class ExperimentCatalog(Protocol):
    """Looks experiments up by key while a batch is validated (must not block on I/O)."""

    def get(self, key: str) -> KnownExperiment | None: ...


def encode_event(event: Event, received_at: datetime) -> bytes:
    """The compact JSON form of a validated event, as stream entries carried it before the
    batch format of `entries` (kept so such entries are still read).

    Timestamps travel as integer microseconds since the epoch (UTC), so decoding is exact.
    """
    body: dict[str, Any] = {
        "i": event.event_id,
        "u": event.unit_id,
        "t": micros(event.timestamp),
        "r": micros(received_at),
    }
    if isinstance(event, ExposureEvent):
        body["e"] = event.experiment
        body["v"] = event.variant
    else:
        body["n"] = event.name
        if event.value is not None:
            body["x"] = event.value
        if event.properties is not None:
            body["p"] = event.properties
    return orjson.dumps(body)


def decode_event(data: bytes | str) -> tuple[Event, datetime]:
    """The inverse of `encode_event`: the event and when it was received.

    Raises ValueError (or KeyError/TypeError) when `data` is not an encoded event.
    """
    body: Mapping[str, Any] = orjson.loads(data)
    received_at = from_micros(body["r"])
    timestamp = from_micros(body["t"])
    if "e" in body:
        return (
            ExposureEvent(
                event_id=str(body["i"]),
                unit_id=str(body["u"]),
                timestamp=timestamp,
                experiment=str(body["e"]),
                variant=str(body["v"]),
            ),
            received_at,
        )
    return (
        ConversionEvent(
            event_id=str(body["i"]),
            unit_id=str(body["u"]),
            timestamp=timestamp,
            name=str(body["n"]),
            value=body.get("x"),
            properties=body.get("p"),
        ),
        received_at,
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


_ONE_MICROSECOND = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    """Integer microseconds since the epoch (UTC) of an aware datetime."""
    return (moment - _EPOCH) // _ONE_MICROSECOND


def from_micros(value: int) -> datetime:
    """The inverse of `micros`; raises TypeError unless `value` is an integer."""
    if not isinstance(value, int):
        raise TypeError("timestamps must be integer microseconds")
    return _EPOCH + timedelta(microseconds=value)
