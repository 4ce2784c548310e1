"""The typed events that passed validation, and how they travel through a Redis Stream.

An event on the wire is a JSON object (see `validation`); once valid it is an `ExposureEvent` or
a `ConversionEvent` with its `event_id` fixed, so every later step (buffer, worker, store) handles
the same id and a redelivery can never be stored twice. It also carries its `source`, the scope of
the key that sent it (not a wire field: the intake stamps it), stored with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import msgspec

from experiments.models.api_key import EventSource

EXPOSURE_FIELDS = frozenset(
    {"event_id", "type", "unit_id", "timestamp", "experiment", "variant", "attributes"}
)
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


# Events are msgspec structs: built in C (half a slotted dataclass's cost) and untracked by the
# cyclic collector (they hold no cycles), and a stream entry encodes them in C. Intake builds one
# per event on its hot path. Treat them as read-only all the same.
class ExposureEvent(msgspec.Struct, gc=False):
    """A unit saw a variant of an experiment."""

    event_id: str
    unit_id: str
    timestamp: datetime
    experiment: str
    variant: str
    source: EventSource = "sdk"  # the scope of the key that sent it


class AttributedExposure(ExposureEvent, gc=False):
    """An exposure with `attributes`: the unit's values of the experiment's dimensions at that
    moment (only those: intake drops the others).

    A subclass rather than a field of every exposure: a stream entry serialises every field of
    every event, and the usual exposure has no attributes, so it stays as cheap as before.
    """

    attributes: dict[str, Any] = msgspec.field(default_factory=dict)


def new_exposure(
    event_id: str,
    unit_id: str,
    timestamp: datetime,
    experiment: str,
    variant: str,
    source: EventSource,
    attributes: dict[str, Any] | None,
) -> ExposureEvent:
    """An `AttributedExposure` when `attributes` holds any, else a plain `ExposureEvent`."""
    if attributes:
        return AttributedExposure(
            event_id, unit_id, timestamp, experiment, variant, source, attributes
        )
    return ExposureEvent(event_id, unit_id, timestamp, experiment, variant, source)


def exposure_attributes(event: ExposureEvent) -> dict[str, Any] | None:
    """The attributes an exposure carries, or None."""
    return event.attributes if type(event) is AttributedExposure else None


class ConversionEvent(msgspec.Struct, gc=False):
    """A unit did something (`name`), maybe worth a `value` such as revenue."""

    event_id: str
    unit_id: str
    timestamp: datetime
    name: str
    value: float | None = None
    properties: dict[str, Any] | None = None
    source: EventSource = "sdk"  # the scope of the key that sent it


Event = ExposureEvent | ConversionEvent


@dataclass(frozen=True, slots=True)
class KnownExperiment:
    """What the exposure check needs to know about one experiment."""

    status: str
    variants: frozenset[str]
    dimensions: frozenset[str] = frozenset()  # the attributes an exposure keeps


class ExperimentCatalog(Protocol):
    """Looks experiments up by key while a batch is validated (must not block on I/O)."""

    def get(self, key: str) -> KnownExperiment | None: ...


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
