"""What every stored or analysed input must be, whatever the resource: the storage rules.

Defined once here and used by the API shapes (`models/`), event validation and the statistics
requests, so a value the database or the statistics cannot hold is refused at the door with a
422 naming the field, never a 500 later:

- text never holds the NUL character (PostgreSQL text cannot) nor a lone surrogate (it is not
  valid Unicode, so it cannot be encoded as UTF-8);
- a free-form JSON value (payloads, targeting, attributes) follows the same text rule for keys
  and strings, holds integers within 64 bits (-2**63 to 2**63-1) and finite floats only, and
  nests at most `MAX_JSON_DEPTH` levels;
- a count is an integer from 0 to `MAX_COUNT` (2**53: every count is exact as a float);
- a plain number (a sum, a mean, an sd) is finite and at most `MAX_MAGNITUDE` (1e15) in size,
  so sums of squares and variances stay finite;
- a moment (a timestamp) lies between years 1900 and 9000 (`OLDEST`, `NEWEST`), so adding the
  windows the results use never leaves the calendar;
- a key (of an experiment, a variant, a metric, an event name) is a slug (`SLUG_PATTERN`);
- a unit id follows `unit_id_problem`: the SDK's rule plus storable text.

Rule failures are `PydanticCustomError`s of type `path_rule` (`path_rule_error`) with the rule
as message and, for JSON values, the path inside the value in `ctx["path"]` (the API appends it
to the field path, e.g. `variants[0].payload.colours[2]`).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from experiments.errors import InvalidInputError

MAX_JSON_DEPTH = 32
MIN_INT64 = -(2**63)
MAX_INT64 = 2**63 - 1
MAX_COUNT = 2**53
MAX_MAGNITUDE = 1e15
OLDEST = datetime(1900, 1, 1, tzinfo=UTC)
NEWEST = datetime(9000, 1, 1, tzinfo=UTC)

SLUG_PATTERN = r"^[a-z0-9_-]{1,64}$"
SLUG = re.compile(SLUG_PATTERN)
SLUG_RULE = "must be a slug of 1-64 characters from a-z, 0-9, '-' and '_'"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
MAX_UNIT_ID_LENGTH = 256

NUL_RULE = "must not contain the NUL character (\\u0000)"
SURROGATE_RULE = "must be valid Unicode (no lone surrogates)"
PATH_RULE_ERROR = "path_rule"


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None when it can."""
    if "\x00" in value:
        return NUL_RULE
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return SURROGATE_RULE
    return None


def unit_id_problem(unit_id: object) -> str | None:
    """Why `unit_id` is refused, or None: a string of 1-256 code points, not only whitespace,
    storable text. The SDK's rule (`vekst_sdk`'s `validate_unit_id`, the spec; a test compares
    the two) accepts the same ids but for those holding NUL, which the database cannot store."""
    if not isinstance(unit_id, str) or not unit_id:
        return "must be a non-empty string"
    if len(unit_id) > MAX_UNIT_ID_LENGTH:
        return f"must have at most {MAX_UNIT_ID_LENGTH} characters"
    if unit_id.isspace():
        return "must not be only whitespace"
    return text_problem(unit_id)


def printable(value: str) -> str:
    """`value` with lone surrogates shown as `\\udxxx`, safe to put in a UTF-8 response."""
    if value.isascii():
        return value
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def json_problem(value: object) -> tuple[str, str] | None:
    """The first part of a JSON value that cannot be stored: (path inside it, rule), or None.

    The path reads like the API's field paths: `.name` for object keys, `[i]` for items.
    """
    stack: list[tuple[object, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, dict | list):
            problem = _push_children(item, path, depth, stack)
        else:
            rule = _scalar_problem(item)
            problem = None if rule is None else (path, rule)
        if problem is not None:
            return problem
    return None


def _scalar_problem(item: object) -> str | None:
    if isinstance(item, str):
        return text_problem(item)
    if isinstance(item, bool) or item is None:
        return None
    if isinstance(item, int):
        return None if MIN_INT64 <= item <= MAX_INT64 else "must hold integers within 64 bits"
    if isinstance(item, float):
        return None if math.isfinite(item) else "must hold finite numbers only"
    return "must be a JSON value"


def _push_children(
    item: dict[object, object] | list[object],
    path: str,
    depth: int,
    stack: list[tuple[object, str, int]],
) -> tuple[str, str] | None:
    """Push the items of a list or object onto `stack`; the problem of the container itself
    (too deep) or of one of its keys, if any."""
    if depth >= MAX_JSON_DEPTH:
        return path, f"must nest at most {MAX_JSON_DEPTH} levels"
    if isinstance(item, list):
        stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item))
        return None
    for key, child in item.items():
        key_text = key if isinstance(key, str) else str(key)
        child_path = f"{path}.{printable(key_text)}"
        rule = text_problem(key_text)
        if rule is not None:
            return child_path, f"keys {rule}"
        stack.append((child, child_path, depth + 1))
    return None


def path_rule_error(path: str, rule: str) -> PydanticCustomError:
    """A validation error about the part `path` (e.g. `.plan`, `[2]`) of the field validated."""
    return PydanticCustomError(PATH_RULE_ERROR, rule, {"path": path, "rule": rule})


def _check_text(value: str) -> str:
    rule = text_problem(value)
    if rule is not None:
        raise path_rule_error("", rule)
    return value


def check_json(value: Any) -> Any:
    """A pydantic after-validator: `value` unless `json_problem` finds a part that cannot be
    stored (then a `path_rule` error with the path inside the value)."""
    problem = json_problem(value)
    if problem is not None:
        raise path_rule_error(*problem)
    return value


def require_timezone(field: str, value: datetime | None) -> None:
    """Refuse a naive `value` for `field`: a moment sent to the API to ask about (results'
    `as_of`, the audit log's `since`) or to date pasted counts (`as_of`) must say which day it
    means. Elsewhere a naive time is read as UTC: an event's time (`events.validation`) and the
    command line's `--as-of`."""
    if value is not None and value.tzinfo is None:
        raise InvalidInputError(field, "must include a timezone, e.g. 2026-03-01T12:00:00Z")


def _check_moment(value: datetime) -> datetime:
    # Naive times are compared as UTC but handed on as sent: the caller decides about offsets.
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if not OLDEST <= aware <= NEWEST:
        raise path_rule_error("", "must be between the years 1900 and 9000")
    return value


SafeText = Annotated[str, AfterValidator(_check_text)]
"""Text the database can store (no NUL, no lone surrogate)."""

Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
"""A whole number of units or events: 0 to 2**53."""

Magnitude = Annotated[float, Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE, allow_inf_nan=False)]
"""A finite number of at most 1e15 in size (sums, means, standard deviations)."""

Moment = Annotated[datetime, AfterValidator(_check_moment)]
"""A point in time between the years 1900 and 9000 (compared as UTC when naive)."""
