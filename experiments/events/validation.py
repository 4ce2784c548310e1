"""Validation of incoming events: one bad event is rejected with its reasons, never the batch.

The contract of one event (the wire format, documented in docs/events.md):

- `type`: "exposure" or "conversion"; `unit_id`: a string of 1-256 characters;
- `event_id` (optional): the client's idempotency key, a string of 1-64 characters; when absent
  the server makes one (`srv-` + 32 hex digits) before storing or buffering the event;
- all text (ids, property keys and string values) is storable (`experiments.inputs`): no NUL
  character, no lone surrogate;
- `timestamp` (optional): ISO 8601 text or epoch milliseconds; text without an offset is UTC;
  refused when more than 5 minutes in the future or older than the configured maximum age;
- exposures: `experiment` and `variant` (slugs), naming a running or stopped experiment and one
  of its variants;
- conversions: `name` (a slug such as `purchase`), optional `value` (a finite number from
  -1e12 to 1e12), optional flat `properties` (string keys; string, number, boolean or null
  values; integers within 64 bits, finite floats; at most 4 KiB as JSON).

Unknown fields are refused so a misspelt field is never silently dropped.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from experiments.events.types import (
    CONVERSION_FIELDS,
    EXPOSURE_FIELDS,
    ConversionEvent,
    Event,
    ExperimentCatalog,
    ExposureEvent,
    FieldError,
)
from experiments.inputs import MAX_INT64, MIN_INT64, printable, text_problem

MAX_EVENT_ID_LENGTH = 64
MAX_UNIT_ID_LENGTH = 256
MAX_PROPERTIES_BYTES = 4096
MAX_EVENT_VALUE = 1e12
VALUE_RULE = f"must be a finite number from {-MAX_EVENT_VALUE:g} to {MAX_EVENT_VALUE:g}"
UNKNOWN_EXPERIMENT_RULE = "must name a known experiment"
# Rejections the experiment catalogue decides: a fresher catalogue may accept the event.
CATALOG_FIELDS = frozenset({"experiment", "variant"})
MAX_FUTURE = timedelta(minutes=5)
SERVER_ID_PREFIX = "srv-"

_SLUG = re.compile(r"[a-z0-9_-]{1,64}")
_SLUG_RULE = "must be a slug of 1-64 characters from a-z, 0-9, '-' and '_'"
_ACCEPTING_STATUSES = frozenset({"running", "stopped"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MILLISECOND = timedelta(milliseconds=1)
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
    """The events that passed, in batch order, and the ones that did not."""

    events: list[Event]
    rejected: list[Rejection]


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """The timestamps accepted at one moment: `oldest` <= timestamp <= `newest`."""

    received_at: datetime
    oldest: datetime
    newest: datetime

    @classmethod
    def at(cls, received_at: datetime, max_age_days: int) -> TimeWindow:
        """The window for a batch received at `received_at` (timezone-aware)."""
        return cls(
            received_at=received_at,
            oldest=received_at - timedelta(days=max_age_days),
            newest=received_at + MAX_FUTURE,
        )


def validate_batch(
    raw_events: Sequence[object], window: TimeWindow, catalog: ExperimentCatalog
) -> ValidatedBatch:
    """Check every event of a batch; the valid ones come back typed, the others as rejections.

    Same answer as `validate_event` on each event. The common, valid event takes a cheap path
    (exact type checks, slugs and experiment targets checked once per batch, epoch-millisecond
    timestamps compared as integers); anything that path does not accept is judged by
    `validate_event`, which also names every broken rule.
    """
    events: list[Event] = []
    rejected: list[Rejection] = []
    fast = _FastPath(window, catalog)
    for index, raw in enumerate(raw_events):
        event = fast.accept(raw) if type(raw) is dict else None
        if event is None:
            result = validate_event(raw, window, catalog)
            if isinstance(result, tuple):
                rejected.append(Rejection(index, result))
                continue
            event = result
        events.append(event)
    return ValidatedBatch(events, rejected)


class _FastPath:
    """Accepts the events `validate_event` accepts in the usual shapes, and builds the same
    typed event; returns None for anything else (never rejects on its own)."""

    def __init__(self, window: TimeWindow, catalog: ExperimentCatalog) -> None:
        self._window = window
        self._catalog = catalog
        # Whole milliseconds strictly inside the window compare the same as the datetimes.
        self._oldest_ms = math.ceil((window.oldest - _EPOCH) / _ONE_MILLISECOND) + 1
        self._newest_ms = math.floor((window.newest - _EPOCH) / _ONE_MILLISECOND) - 1
        self._targets: dict[tuple[str, str], bool] = {}
        self._names: dict[str, bool] = {}

    def accept(self, raw: dict[str, Any]) -> Event | None:
        kind = raw.get("type")
        event_id = raw.get("event_id")
        if event_id is not None and (
            type(event_id) is not str
            or not 0 < len(event_id) <= MAX_EVENT_ID_LENGTH
            or event_id.startswith(SERVER_ID_PREFIX)
            or not _storable(event_id)
        ):
            return None
        unit_id = raw.get("unit_id")
        if (
            type(unit_id) is not str
            or not 0 < len(unit_id) <= MAX_UNIT_ID_LENGTH
            or not _storable(unit_id)
        ):
            return None
        timestamp = self._timestamp(raw.get("timestamp"))
        if timestamp is None:
            return None
        if kind == "exposure":
            experiment, variant = raw.get("experiment"), raw.get("variant")
            if (
                not raw.keys() <= EXPOSURE_FIELDS
                or type(experiment) is not str
                or type(variant) is not str
                or not self._target_ok(experiment, variant)
            ):
                return None
            event_id = event_id or new_server_event_id()
            return ExposureEvent(event_id, unit_id, timestamp, experiment, variant)
        name = raw.get("name")
        if kind != "conversion" or not raw.keys() <= CONVERSION_FIELDS or type(name) is not str:
            return None
        known = self._names.get(name)
        if known is None:
            known = self._names[name] = _SLUG.fullmatch(name) is not None
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
        if properties is not None and _properties(properties, []) is None:
            return None
        event_id = event_id or new_server_event_id()
        return ConversionEvent(event_id, unit_id, timestamp, name, value, properties)

    def _timestamp(self, value: object) -> datetime | None:
        if value is None:
            return self._window.received_at
        if type(value) is int and self._oldest_ms <= value <= self._newest_ms:
            # Exact: a millisecond epoch divided by 1000 errs by < 1 us, and fromtimestamp rounds
            # to the microsecond; half the cost of adding a timedelta.
            return datetime.fromtimestamp(value / 1000, UTC)
        if type(value) is str:
            return _timestamp(value, self._window, [])
        return None

    def _target_ok(self, experiment: str, variant: str) -> bool:
        key = (experiment, variant)
        known = self._targets.get(key)
        if known is None:
            errors: list[FieldError] = []
            if _SLUG.fullmatch(experiment) is None or _SLUG.fullmatch(variant) is None:
                errors.append(FieldError("experiment", _SLUG_RULE))
            else:
                _check_exposure_target(experiment, variant, self._catalog, errors)
            known = self._targets[key] = not errors
        return known


def validate_event(
    raw: object, window: TimeWindow, catalog: ExperimentCatalog
) -> Event | tuple[FieldError, ...]:
    """One event checked against the contract above: the typed event, or every error found."""
    if not isinstance(raw, dict):
        return (FieldError("event", "must be an object"),)
    errors: list[FieldError] = []
    kind = raw.get("type")
    if kind == "exposure":
        allowed = EXPOSURE_FIELDS
    elif kind == "conversion":
        allowed = CONVERSION_FIELDS
    else:
        rule = "is required" if kind is None else "must be one of 'exposure', 'conversion'"
        return (FieldError("type", rule),)
    for name in raw:
        if name not in allowed:
            errors.append(
                FieldError(printable(str(name)), f"is not a known field of {kind} events")
            )
    event_id = _event_id(raw.get("event_id"), errors)
    unit_id = _text(raw, "unit_id", MAX_UNIT_ID_LENGTH, errors)
    timestamp = _timestamp(raw.get("timestamp"), window, errors)
    if kind == "exposure":
        experiment = _slug(raw, "experiment", errors)
        variant = _slug(raw, "variant", errors)
        if experiment is not None and variant is not None:
            _check_exposure_target(experiment, variant, catalog, errors)
        if errors:
            return tuple(errors)
        return ExposureEvent(
            event_id=event_id or new_server_event_id(),
            unit_id=unit_id or "",
            timestamp=timestamp or window.received_at,
            experiment=experiment or "",
            variant=variant or "",
        )
    name = _slug(raw, "name", errors)
    value = _value(raw.get("value"), errors)
    properties = _properties(raw.get("properties"), errors)
    if errors:
        return tuple(errors)
    return ConversionEvent(
        event_id=event_id or new_server_event_id(),
        unit_id=unit_id or "",
        timestamp=timestamp or window.received_at,
        name=name or "",
        value=value,
        properties=properties,
    )


def new_server_event_id() -> str:
    """An idempotency key for an event the client sent without one (unique, never a client's)."""
    # 128 random bits like a UUID4's hex, without building a UUID object.
    return SERVER_ID_PREFIX + os.urandom(16).hex()


def _storable(value: str) -> bool:
    # The common ASCII id costs two scans in C; anything else gets the full check.
    return "\x00" not in value and (value.isascii() or text_problem(value) is None)


def _event_id(value: object, errors: list[FieldError]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        errors.append(FieldError("event_id", "must be a non-empty string"))
        return None
    if len(value) > MAX_EVENT_ID_LENGTH:
        errors.append(FieldError("event_id", f"must have at most {MAX_EVENT_ID_LENGTH} characters"))
        return None
    if value.startswith(SERVER_ID_PREFIX):
        errors.append(
            FieldError("event_id", f"must not start with '{SERVER_ID_PREFIX}' (reserved)")
        )
        return None
    rule = text_problem(value)
    if rule is not None:
        errors.append(FieldError("event_id", rule))
        return None
    return value


def _text(
    raw: Mapping[str, object], field: str, limit: int, errors: list[FieldError]
) -> str | None:
    value = raw.get(field)
    if value is None:
        errors.append(FieldError(field, "is required"))
        return None
    if not isinstance(value, str) or not value:
        errors.append(FieldError(field, "must be a non-empty string"))
        return None
    if len(value) > limit:
        errors.append(FieldError(field, f"must have at most {limit} characters"))
        return None
    rule = text_problem(value)
    if rule is not None:
        errors.append(FieldError(field, rule))
        return None
    return value


def _slug(raw: Mapping[str, object], field: str, errors: list[FieldError]) -> str | None:
    value = raw.get(field)
    if value is None:
        errors.append(FieldError(field, "is required"))
        return None
    if not isinstance(value, str) or _SLUG.fullmatch(value) is None:
        errors.append(FieldError(field, _SLUG_RULE))
        return None
    return value


def _timestamp(value: object, window: TimeWindow, errors: list[FieldError]) -> datetime | None:
    if value is None:
        return None
    moment: datetime | None = None
    if isinstance(value, bool):
        moment = None
    elif isinstance(value, int | float):
        try:
            # An integer beyond a double's range overflows in the division: refused below.
            moment = datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            moment = None
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    if moment is None:
        errors.append(FieldError("timestamp", "must be ISO 8601 text or epoch milliseconds"))
        return None
    if moment > window.newest:
        errors.append(FieldError("timestamp", "must not be more than 5 minutes in the future"))
        return None
    if moment < window.oldest:
        days = (window.received_at - window.oldest).days
        errors.append(FieldError("timestamp", f"must not be older than {days} days"))
        return None
    return moment


def _check_exposure_target(
    experiment: str, variant: str, catalog: ExperimentCatalog, errors: list[FieldError]
) -> None:
    known = catalog.get(experiment)
    if known is None:
        errors.append(FieldError("experiment", UNKNOWN_EXPERIMENT_RULE))
        return
    if known.status not in _ACCEPTING_STATUSES:
        errors.append(
            FieldError(
                "experiment",
                f"is {known.status}; exposures are accepted only while running or stopped",
            )
        )
        return
    if variant not in known.variants:
        errors.append(FieldError("variant", f"must be one of the variants of {experiment}"))


def _value(value: object, errors: list[FieldError]) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors.append(FieldError("value", "must be a finite number"))
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond the range of a double
        number = math.inf
    if not -MAX_EVENT_VALUE <= number <= MAX_EVENT_VALUE:
        errors.append(FieldError("value", VALUE_RULE))
        return None
    return number


def _properties(value: object, errors: list[FieldError]) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.append(FieldError("properties", "must be a flat object"))
        return None
    for key, item in value.items():
        problem = _property_problem(key, item)
        if problem is not None:
            errors.append(FieldError(f"properties.{printable(str(key))}", problem))
            return None
    try:
        size = len(orjson.dumps(value))
    except (TypeError, orjson.JSONEncodeError):
        errors.append(FieldError("properties", "must hold only storable JSON values"))
        return None
    if size > MAX_PROPERTIES_BYTES:
        errors.append(
            FieldError("properties", f"must be at most {MAX_PROPERTIES_BYTES} bytes as JSON")
        )
        return None
    return value


def _property_problem(key: object, item: object) -> str | None:
    key_rule = text_problem(str(key))
    if key_rule is not None:
        return f"names {key_rule}"
    if item is None or isinstance(item, bool):
        return None
    if isinstance(item, str):
        return text_problem(item)
    if isinstance(item, int):
        return None if MIN_INT64 <= item <= MAX_INT64 else "must be an integer within 64 bits"
    if isinstance(item, float):
        return None if math.isfinite(item) else "must be a finite number"
    return "must be a string, number, boolean or null"
