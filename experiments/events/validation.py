"""Validation of incoming events: one bad event is rejected with its reasons, never the batch.

The contract of one event (the wire format, documented in docs/events.md):

- `type`: "exposure" or "conversion"; `unit_id`: a string of 1-256 characters, not only
  whitespace (`experiments.inputs.unit_id_problem`, the SDK's rule);
- `event_id` (optional): the client's idempotency key, a string of 1-64 characters; when absent
  the server makes one (`srv-` + 32 hex digits) before storing or buffering the event;
- all text (ids, property keys and string values) is storable (`experiments.inputs`): no NUL
  character, no lone surrogate;
- `timestamp` (optional): ISO 8601 text or epoch milliseconds; text without an offset is UTC;
  refused when more than 5 minutes in the future or older than the configured maximum age;
- exposures: `experiment` and `variant` (slugs), naming a running or stopped experiment and one
  of its variants; optional `attributes`, by the rules of `/v1/assign`'s
  (`fields.check_attributes`), of which only those the experiment names as dimensions are kept
  (the others are dropped without a word: `fields.keep_dimensions`);
- conversions: `name` (a slug such as `purchase`), optional `value` (a finite number from
  -1e12 to 1e12), optional flat `properties` (string keys; string, number, boolean or null
  values; integers within 64 bits, finite floats; at most 4 KiB as JSON).

Unknown fields are refused so a misspelt field is never silently dropped.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from experiments.events.fields import (
    CATALOG_FIELDS,
    MAX_EVENT_ID_LENGTH,
    MAX_EVENT_VALUE,
    MAX_FUTURE,
    MAX_PROPERTIES_BYTES,
    SERVER_ID_PREFIX,
    UNKNOWN_EXPERIMENT_RULE,
    VALUE_RULE,
    TimeWindow,
    check_attributes,
    check_event_id,
    check_exposure_target,
    check_properties,
    check_slug,
    check_timestamp,
    check_unit_id,
    check_value,
    keep_dimensions,
    storable,
)
from experiments.events.types import (
    CONVERSION_FIELDS,
    EXPOSURE_FIELDS,
    ConversionEvent,
    Event,
    ExperimentCatalog,
    ExposureEvent,
    FieldError,
    new_exposure,
)
from experiments.inputs import MAX_UNIT_ID_LENGTH, SLUG, SLUG_RULE, printable
from experiments.models.api_key import EventSource

__all__ = [
    "CATALOG_FIELDS",
    "MAX_EVENT_ID_LENGTH",
    "MAX_EVENT_VALUE",
    "MAX_FUTURE",
    "MAX_PROPERTIES_BYTES",
    "SERVER_ID_PREFIX",
    "UNKNOWN_EXPERIMENT_RULE",
    "VALUE_RULE",
    "Rejection",
    "TimeWindow",
    "ValidatedBatch",
    "new_server_event_id",
    "validate_batch",
    "validate_event",
]

# Integers at or beyond this magnitude are judged by the slow path (float() may overflow).
_FLOAT_INT_LIMIT = 2**53


@dataclass(frozen=True, slots=True)
class Rejection:
    """One refused event: its position in the batch and every rule it broke."""

    index: int
    errors: tuple[FieldError, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "errors": [error.as_dict() for error in self.errors]}


@dataclass(frozen=True, slots=True)
class ValidatedBatch:
    """The events that passed and the ones that did not. `indexes` gives each passed event's
    position in the batch; None means "batch order": the positions not rejected, ascending."""

    events: list[Event]
    rejected: list[Rejection]
    indexes: list[int] | None = None

    def positions(self) -> list[int]:
        """The position in the batch of each event of `events`."""
        if self.indexes is not None:
            return self.indexes
        refused = {rejection.index for rejection in self.rejected}
        total = len(self.events) + len(self.rejected)
        return [index for index in range(total) if index not in refused]


def validate_batch(
    raw_events: Sequence[object],
    window: TimeWindow,
    catalog: ExperimentCatalog,
    source: EventSource = "sdk",
) -> ValidatedBatch:
    """Check every event of a batch; the valid ones come back typed (with `source`, the scope
    of the key that sent them), the others as rejections.

    Same answer as `validate_event` on each event. The common, valid event takes a cheap path
    (exact type checks, slugs and experiment targets checked once per batch, epoch-millisecond
    timestamps compared as integers); anything that path does not accept is judged by
    `validate_event`, which also names every broken rule.
    """
    events: list[Event] = []
    rejected: list[Rejection] = []
    fast = _FastPath(window, catalog, source)
    for index, raw in enumerate(raw_events):
        event = fast.accept(raw) if type(raw) is dict else None
        if event is None:
            result = validate_event(raw, window, catalog, source)
            if isinstance(result, tuple):
                rejected.append(Rejection(index, result))
                continue
            event = result
        events.append(event)
    return ValidatedBatch(events, rejected)


class _FastPath:
    """Accepts the events `validate_event` accepts in the usual shapes, and builds the same
    typed event; returns None for anything else (never rejects on its own)."""

    def __init__(self, window: TimeWindow, catalog: ExperimentCatalog, source: EventSource) -> None:
        self._window = window
        self._catalog = catalog
        self._source = source
        self._oldest_ms, self._newest_ms = window.inner_milliseconds()
        self._targets: dict[tuple[str, str], bool] = {}
        self._dimensions: dict[str, frozenset[str]] = {}
        self._names: dict[str, bool] = {}

    def accept(self, raw: dict[str, Any]) -> Event | None:
        event_id = raw.get("event_id")
        if event_id is not None and (
            type(event_id) is not str
            or not 0 < len(event_id) <= MAX_EVENT_ID_LENGTH
            or event_id.startswith(SERVER_ID_PREFIX)
            or "\x00" in event_id
            or not (event_id.isascii() or storable(event_id))
        ):
            return None
        unit_id = raw.get("unit_id")
        if (
            type(unit_id) is not str
            or not 0 < len(unit_id) <= MAX_UNIT_ID_LENGTH
            or unit_id.isspace()
            # Storable text, checked inline: the usual ASCII id costs two scans in C.
            or "\x00" in unit_id
            or not (unit_id.isascii() or storable(unit_id))
        ):
            return None
        timestamp = self._timestamp(raw.get("timestamp"))
        if timestamp is None:
            return None
        kind = raw.get("type")
        if kind == "exposure":
            return self._exposure(raw, event_id, unit_id, timestamp)
        if kind == "conversion":
            return self._conversion(raw, event_id, unit_id, timestamp)
        return None

    def _exposure(
        self, raw: dict[str, Any], event_id: str | None, unit_id: str, timestamp: datetime
    ) -> ExposureEvent | None:
        experiment, variant = raw.get("experiment"), raw.get("variant")
        if (
            not raw.keys() <= EXPOSURE_FIELDS
            or type(experiment) is not str
            or type(variant) is not str
            or not self._target_ok(experiment, variant)
        ):
            return None
        attributes = raw.get("attributes")
        if attributes is not None:
            if check_attributes(attributes, []) is None:
                return None
            attributes = keep_dimensions(attributes, self._dimensions_of(experiment))
            event_id = event_id or new_server_event_id()
            return new_exposure(
                event_id, unit_id, timestamp, experiment, variant, self._source, attributes
            )
        return ExposureEvent(
            event_id or new_server_event_id(), unit_id, timestamp, experiment, variant, self._source
        )

    def _conversion(
        self, raw: dict[str, Any], event_id: str | None, unit_id: str, timestamp: datetime
    ) -> ConversionEvent | None:
        name = raw.get("name")
        if not raw.keys() <= CONVERSION_FIELDS or type(name) is not str:
            return None
        known = self._names.get(name)
        if known is None:
            known = self._names[name] = SLUG.fullmatch(name) is not None
        if not known:
            return None
        value = raw.get("value")
        if value is not None:
            if type(value) is int:
                value = float(value) if abs(value) < _FLOAT_INT_LIMIT else None
            # NaN fails both comparisons, infinities the bound.
            if type(value) is not float or not -MAX_EVENT_VALUE <= value <= MAX_EVENT_VALUE:
                return None
        properties = raw.get("properties")
        if properties is not None and check_properties(properties, []) is None:
            return None
        event_id = event_id or new_server_event_id()
        return ConversionEvent(event_id, unit_id, timestamp, name, value, properties, self._source)

    def _timestamp(self, value: object) -> datetime | None:
        if value is None:
            return self._window.received_at
        if type(value) is int and self._oldest_ms <= value <= self._newest_ms:
            # Exact: a millisecond epoch divided by 1000 errs by < 1 us, and fromtimestamp rounds
            # to the microsecond; half the cost of adding a timedelta.
            return datetime.fromtimestamp(value / 1000, UTC)
        if type(value) is str:
            return check_timestamp(value, self._window, [])
        return None

    def _dimensions_of(self, experiment: str) -> frozenset[str]:
        dimensions = self._dimensions.get(experiment)
        if dimensions is None:
            known = self._catalog.get(experiment)  # known: its target passed
            dimensions = self._dimensions[experiment] = known.dimensions if known else frozenset()
        return dimensions

    def _target_ok(self, experiment: str, variant: str) -> bool:
        key = (experiment, variant)
        known = self._targets.get(key)
        if known is None:
            errors: list[FieldError] = []
            if SLUG.fullmatch(experiment) is None or SLUG.fullmatch(variant) is None:
                errors.append(FieldError("experiment", SLUG_RULE))
            else:
                check_exposure_target(experiment, variant, self._catalog, errors)
            known = self._targets[key] = not errors
        return known


def validate_event(
    raw: object, window: TimeWindow, catalog: ExperimentCatalog, source: EventSource = "sdk"
) -> Event | tuple[FieldError, ...]:
    """One event checked against the contract above: the typed event (sent with a key of scope
    `source`), or every error found."""
    if not isinstance(raw, dict):
        return (FieldError("event", "must be an object"),)
    kind = raw.get("type")
    if kind != "exposure" and kind != "conversion":
        rule = "is required" if kind is None else "must be one of 'exposure', 'conversion'"
        return (FieldError("type", rule),)
    allowed = EXPOSURE_FIELDS if kind == "exposure" else CONVERSION_FIELDS
    errors = [
        FieldError(printable(str(name)), f"is not a known field of {kind} events")
        for name in raw
        if name not in allowed
    ]
    event_id = check_event_id(raw.get("event_id"), errors)
    unit_id = check_unit_id(raw, errors)
    timestamp = check_timestamp(raw.get("timestamp"), window, errors)
    if kind == "exposure":
        experiment = check_slug(raw, "experiment", errors)
        variant = check_slug(raw, "variant", errors)
        attributes = check_attributes(raw.get("attributes"), errors)
        if experiment is None or variant is None:
            return tuple(errors)
        check_exposure_target(experiment, variant, catalog, errors)
        if errors:
            return tuple(errors)
        known = catalog.get(experiment)
        kept = keep_dimensions(attributes, known.dimensions if known else frozenset())
        common = _common_fields(event_id, unit_id, timestamp or window.received_at)
        return new_exposure(*common, experiment, variant, source, kept)
    name = check_slug(raw, "name", errors)
    value = check_value(raw.get("value"), errors)
    properties = check_properties(raw.get("properties"), errors)
    if errors:
        return tuple(errors)
    common = _common_fields(event_id, unit_id, timestamp or window.received_at)
    return ConversionEvent(*common, name or "", value, properties, source)


def _common_fields(
    event_id: str | None, unit_id: str | None, timestamp: datetime
) -> tuple[str, str, datetime]:
    """The first fields of a valid event (its id made when the client sent none)."""
    return event_id or new_server_event_id(), unit_id or "", timestamp


def new_server_event_id() -> str:
    """An idempotency key for an event the client sent without one (unique, never a client's)."""
    # 128 random bits like a UUID4's hex, without building a UUID object.
    return SERVER_ID_PREFIX + os.urandom(16).hex()
