"""The rules of each field of an incoming event (the contract is in `validation`'s docstring).

Each `check_*` function returns the field's typed value, or None after appending the broken
rule to `errors`; `validation` combines them per event and per batch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import orjson

from experiments.events.types import ExperimentCatalog, FieldError, micros
from experiments.inputs import (
    MAX_INT64,
    MIN_INT64,
    SLUG,
    SLUG_RULE,
    json_problem,
    printable,
    text_problem,
    unit_id_problem,
)
from experiments.models.experiment import SERVED_STATUSES
from vekst_sdk.spec import InvalidInputError as SdkInputError
from vekst_sdk.spec import validate_attributes

MAX_EVENTS_PER_BATCH = 10_000
MAX_EVENT_ID_LENGTH = 64
MAX_PROPERTIES_BYTES = 4096
MAX_EVENT_VALUE = 1e12
VALUE_RULE = f"must be a finite number from {-MAX_EVENT_VALUE:g} to {MAX_EVENT_VALUE:g}"
UNKNOWN_EXPERIMENT_RULE = "must name a known experiment"
# Rejections the experiment catalogue decides: a fresher catalogue may accept the event.
CATALOG_FIELDS = frozenset({"experiment", "variant"})
MAX_FUTURE = timedelta(minutes=5)
SERVER_ID_PREFIX = "srv-"


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

    def inner_milliseconds(self) -> tuple[int, int]:
        """The first and last whole epoch milliseconds strictly inside the window: an integer
        timestamp between them is in the window, compared without making a datetime."""
        return -(-micros(self.oldest) // 1000) + 1, micros(self.newest) // 1000 - 1


def storable(value: str) -> bool:
    """Whether `value` is storable text (see `experiments.inputs`)."""
    # The common ASCII id costs two scans in C; anything else gets the full check.
    return "\x00" not in value and (value.isascii() or text_problem(value) is None)


def check_event_id(value: object, errors: list[FieldError]) -> str | None:
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


def check_slug(raw: Mapping[str, object], field: str, errors: list[FieldError]) -> str | None:
    value = raw.get(field)
    if value is None:
        errors.append(FieldError(field, "is required"))
        return None
    if not isinstance(value, str) or SLUG.fullmatch(value) is None:
        errors.append(FieldError(field, SLUG_RULE))
        return None
    return value


def check_unit_id(raw: Mapping[str, object], errors: list[FieldError]) -> str | None:
    """The event's `unit_id` if it follows `experiments.inputs.unit_id_problem`."""
    value = raw.get("unit_id")
    rule = "is required" if value is None else unit_id_problem(value)
    if rule is not None:
        errors.append(FieldError("unit_id", rule))
        return None
    return str(value)  # a str already: unit_id_problem accepts nothing else


def check_timestamp(value: object, window: TimeWindow, errors: list[FieldError]) -> datetime | None:
    if value is None:
        return None
    moment = _moment(value)
    if moment is None:
        rule = "must be ISO 8601 text or epoch milliseconds"
    elif moment > window.newest:
        rule = "must not be more than 5 minutes in the future"
    elif moment < window.oldest:
        rule = f"must not be older than {(window.received_at - window.oldest).days} days"
    else:
        return moment
    errors.append(FieldError("timestamp", rule))
    return None


def _moment(value: object) -> datetime | None:
    """The moment `value` names as epoch milliseconds or ISO 8601 text (UTC when without an
    offset), or None when it names none."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            # An integer beyond a double's range overflows in the division: refused.
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def check_exposure_target(
    experiment: str, variant: str, catalog: ExperimentCatalog, errors: list[FieldError]
) -> None:
    known = catalog.get(experiment)
    if known is None:
        errors.append(FieldError("experiment", UNKNOWN_EXPERIMENT_RULE))
        return
    if known.status not in SERVED_STATUSES:
        errors.append(
            FieldError(
                "experiment",
                f"is {known.status}; exposures are accepted only while running or stopped",
            )
        )
        return
    if variant not in known.variants:
        errors.append(FieldError("variant", f"must be one of the variants of {experiment}"))


def check_attributes(value: object, errors: list[FieldError]) -> dict[str, Any] | None:
    """An exposure's `attributes` when they follow the rules of `/v1/assign`'s (storable JSON,
    `experiments.inputs.json_problem`, then `vekst_sdk.spec.validate_attributes`: a flat object
    of at most 100 names of 1-128 characters, each a string of at most 1024 characters, a
    finite number or a boolean)."""
    if value is None:
        return None
    # Storable first: it refuses integers beyond 64 bits, which the SDK's rule cannot compare.
    problem = json_problem(value)
    if problem is not None:
        path, rule = problem
        errors.append(FieldError(f"attributes{path}", rule))
        return None
    try:
        validate_attributes(value)
    except SdkInputError as error:
        errors.append(FieldError(printable(error.path), error.message))
        return None
    # JSON gives no other mapping than a dict, and validate_attributes accepts only mappings.
    return cast(dict[str, Any], value)


def keep_dimensions(
    attributes: Mapping[str, Any] | None, dimensions: frozenset[str]
) -> dict[str, Any] | None:
    """The attributes an exposure stores: those the experiment names as dimensions (None when
    none is left), so no other attribute (personal data among them) reaches the database."""
    if not attributes or not dimensions:
        return None
    kept = {name: value for name, value in attributes.items() if name in dimensions}
    return kept or None


def check_value(value: object, errors: list[FieldError]) -> float | None:
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


def check_properties(value: object, errors: list[FieldError]) -> dict[str, Any] | None:
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
