"""The usual batch's quick way in: the whole body decoded at once into typed wire records.

msgspec checks in C what a schema can state (the JSON itself, types, lengths, the value's
bounds, 64-bit property integers, unknown fields); `typed_events` then checks per event the few
rules a schema cannot state cheaply (whitespace-only ids, the reserved `srv-` prefix, the time
window, the size of `properties`, attributes) and builds the typed events, matching each
distinct slug and looking each distinct experiment and variant up once per batch.

This way only ever accepts. A body or an event it cannot take whole (anything invalid, a NUL
escape, an experiment the catalogue refuses) makes it answer None, and the intake judges the
same body by the full rules of `validation`, which name every broken rule. So both ways accept
the same events with the same fields (tests/experiments/events/test_decoding.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
import orjson
from msgspec import Meta

from experiments.events.fields import (
    MAX_EVENT_ID_LENGTH,
    MAX_EVENT_VALUE,
    MAX_EVENTS_PER_BATCH,
    MAX_PROPERTIES_BYTES,
    SERVER_ID_PREFIX,
    TimeWindow,
    check_attributes,
    check_exposure_target,
    check_timestamp,
    keep_dimensions,
)
from experiments.events.types import (
    ConversionEvent,
    Event,
    ExperimentCatalog,
    ExposureEvent,
    FieldError,
    new_exposure,
)
from experiments.events.validation import new_server_event_id
from experiments.inputs import MAX_INT64, MAX_UNIT_ID_LENGTH, MIN_INT64, SLUG
from experiments.models.api_key import EventSource

# Slugs are matched once per distinct value and batch (`_Typing`): a pattern here would run the
# expression for every event, which cost more than the rest of the decoding.
_Slug = Annotated[str, Meta(min_length=1, max_length=64)]
_UnitId = Annotated[str, Meta(min_length=1, max_length=MAX_UNIT_ID_LENGTH)]
_EventId = Annotated[str, Meta(min_length=1, max_length=MAX_EVENT_ID_LENGTH)]
_Int64 = Annotated[int, Meta(ge=MIN_INT64, le=MAX_INT64)]
_Value = Annotated[float, Meta(ge=-MAX_EVENT_VALUE, le=MAX_EVENT_VALUE)]


# gc=False: a batch makes hundreds of these, and the cyclic collector need not track them
# (decoded JSON cannot hold a reference cycle).
class _WireEvent(
    msgspec.Struct, kw_only=True, forbid_unknown_fields=True, tag_field="type", gc=False
):
    unit_id: _UnitId
    event_id: _EventId | None = None
    timestamp: int | float | str | None = None


class WireExposure(_WireEvent, tag="exposure", gc=False):
    """An exposure as sent, its types checked."""

    experiment: _Slug
    variant: _Slug
    attributes: dict[str, Any] | None = None


class WireConversion(_WireEvent, tag="conversion", gc=False):
    """A conversion as sent, its types checked."""

    name: _Slug
    value: _Value | None = None
    properties: dict[str, str | _Int64 | float | bool | None] | None = None


WireEvent = WireExposure | WireConversion


class _WireBatch(msgspec.Struct, forbid_unknown_fields=True):
    events: Annotated[list[WireEvent], Meta(max_length=MAX_EVENTS_PER_BATCH)]


_DECODER = msgspec.json.Decoder(_WireBatch)
_NUL_ESCAPE = b"\\u0000"


def decode_batch(body: bytes) -> list[WireEvent] | None:
    """The events of a body whose every event has the wire format's types, or None."""
    # NUL can only come escaped (JSON refuses raw control characters); lone surrogates are
    # refused by the decoder. So every text decoded here is storable. Most bodies hold no
    # backslash at all, and a one-byte search (memchr) is many times a six-byte one's speed.
    if b"\\" in body and _NUL_ESCAPE in body:
        return None
    try:
        return _DECODER.decode(body).events
    except msgspec.DecodeError:  # also its ValidationError
        return None


class _Typing:
    """Per batch: the window, and the catalogue's answer for each distinct target."""

    def __init__(self, window: TimeWindow, catalog: ExperimentCatalog, source: EventSource):
        self.window = window
        self.catalog = catalog
        self.source = source
        self.oldest_ms, self.newest_ms = window.inner_milliseconds()
        self.moments: dict[int, datetime] = {}
        # (experiment, variant) -> the experiment's dimensions, or None when refused.
        self.targets: dict[tuple[str, str], frozenset[str] | None] = {}
        self.names: dict[str, bool] = {}

    def moment(self, stamp: int | float | str | None) -> datetime | None:
        if stamp is None:
            return self.window.received_at
        if type(stamp) is int and self.oldest_ms <= stamp <= self.newest_ms:
            moment = self.moments.get(stamp)
            if moment is None:
                # Exact: fromtimestamp rounds to the microsecond (as validation does).
                moment = self.moments[stamp] = datetime.fromtimestamp(stamp / 1000, UTC)
            return moment
        return check_timestamp(stamp, self.window, [])

    def dimensions(self, experiment: str, variant: str) -> frozenset[str] | None:
        key = (experiment, variant)
        if key in self.targets:
            return self.targets[key]
        found = None
        if SLUG.fullmatch(experiment) and SLUG.fullmatch(variant):
            errors: list[FieldError] = []
            check_exposure_target(experiment, variant, self.catalog, errors)
            known = self.catalog.get(experiment)
            found = None if errors or known is None else known.dimensions
        self.targets[key] = found
        return found

    def exposure(self, wire: WireExposure, event_id: str, moment: datetime) -> ExposureEvent | None:
        dimensions = self.dimensions(wire.experiment, wire.variant)
        if dimensions is None:
            return None
        attributes = wire.attributes
        if attributes is None:
            return ExposureEvent(
                event_id, wire.unit_id, moment, wire.experiment, wire.variant, self.source
            )
        if check_attributes(attributes, []) is None:
            return None
        kept = keep_dimensions(attributes, dimensions)
        return new_exposure(
            event_id, wire.unit_id, moment, wire.experiment, wire.variant, self.source, kept
        )

    def conversion(
        self, wire: WireConversion, event_id: str, moment: datetime
    ) -> ConversionEvent | None:
        name = wire.name
        slug = self.names.get(name)
        if slug is None:
            slug = self.names[name] = SLUG.fullmatch(name) is not None
        properties = wire.properties
        if not slug or (
            properties is not None and len(orjson.dumps(properties)) > MAX_PROPERTIES_BYTES
        ):
            return None
        return ConversionEvent(
            event_id, wire.unit_id, moment, name, wire.value, properties, self.source
        )


def typed_events(
    wire_events: list[WireEvent],
    window: TimeWindow,
    catalog: ExperimentCatalog,
    source: EventSource,
) -> list[Event] | None:
    """Every event typed (sent with a key of scope `source`), as `validation` would type it;
    None when any event breaks a rule (let `validation` name it)."""
    typing = _Typing(window, catalog, source)
    events: list[Event] = []
    for wire in wire_events:
        event_id = wire.event_id
        if event_id is None:
            event_id = new_server_event_id()
        elif event_id.startswith(SERVER_ID_PREFIX):
            return None
        moment = typing.moment(wire.timestamp)
        if moment is None or wire.unit_id.isspace():
            return None
        if isinstance(wire, WireExposure):
            event: Event | None = typing.exposure(wire, event_id, moment)
        else:
            event = typing.conversion(wire, event_id, moment)
        if event is None:
            return None
        events.append(event)
    return events
