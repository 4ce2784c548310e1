"""Rules for what the shop passes in: unit ids, attributes, tracked events.

The same rules serve the SDK (a logged warning and a not-in-experiment result) and the server
(a 422 naming the field): the ``validate_*`` functions raise :class:`InvalidInputError`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from vekst_sdk._errors import InvalidInputError

MAX_UNIT_ID_LENGTH = 256
MAX_ATTRIBUTES = 100
MAX_ATTRIBUTE_NAME_LENGTH = 128
MAX_STRING_VALUE_LENGTH = 1024
MAX_EVENT_NAME_LENGTH = 64
# The server stores numbers in JSON columns: integers beyond 64 bits are refused there.
_MAX_STORED_INTEGER = 2**63 - 1


def unit_id_problem(unit_id: object) -> str | None:
    """Return why ``unit_id`` is refused, or ``None`` when it is acceptable.

    A unit id is a string of 1 to 256 code points that is not only whitespace (``str.isspace``).
    It is hashed exactly as given: no stripping, case folding or Unicode normalisation.
    """
    if not isinstance(unit_id, str):
        return "must be a string"
    if not unit_id or unit_id.isspace():
        return "must not be empty or only whitespace"
    if len(unit_id) > MAX_UNIT_ID_LENGTH:
        return f"must be at most {MAX_UNIT_ID_LENGTH} characters"
    try:
        unit_id.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode (no lone surrogates)"
    return None


def validate_unit_id(unit_id: object, path: str = "unit_id") -> None:
    """Raise :class:`InvalidInputError` unless ``unit_id`` follows the unit id rules."""
    problem = unit_id_problem(unit_id)
    if problem is not None:
        raise InvalidInputError(path, problem)


def _scalar_problem(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return None if math.isfinite(value) else "numbers must be finite"
    if isinstance(value, str):
        if len(value) > MAX_STRING_VALUE_LENGTH:
            return f"strings must be at most {MAX_STRING_VALUE_LENGTH} characters"
        return None
    return "must be a string, a finite number or a boolean (a flat object, no nesting or null)"


def validate_attributes(attributes: object, path: str = "attributes") -> None:
    """Raise :class:`InvalidInputError` unless ``attributes`` is a flat object of scalars.

    Allowed: at most 100 entries, names non-empty strings of at most 128 characters, values
    strings (at most 1024 characters), finite numbers or booleans.
    """
    if not isinstance(attributes, Mapping):
        raise InvalidInputError(path, "must be an object mapping names to values")
    if len(attributes) > MAX_ATTRIBUTES:
        raise InvalidInputError(path, f"must hold at most {MAX_ATTRIBUTES} attributes")
    for name, value in attributes.items():
        if not isinstance(name, str) or not name or len(name) > MAX_ATTRIBUTE_NAME_LENGTH:
            raise InvalidInputError(
                f"{path}.{name}",
                f"names must be non-empty strings of at most {MAX_ATTRIBUTE_NAME_LENGTH} "
                "characters",
            )
        problem = _scalar_problem(value)
        if problem is not None:
            raise InvalidInputError(f"{path}.{name}", problem)


def storable(value: object) -> bool:
    """Whether the server can store a valid attribute value with an exposure: no NUL or lone
    surrogate in a string, no integer beyond 64 bits. An SDK leaves other values out of an
    exposure's attributes rather than have the server refuse the whole exposure."""
    if isinstance(value, str):
        if "\x00" in value:
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, int) and not isinstance(value, bool):
        return -_MAX_STORED_INTEGER - 1 <= value <= _MAX_STORED_INTEGER
    return True


def validate_event_name(name: object, path: str = "name") -> None:
    """Raise :class:`InvalidInputError` unless ``name`` is a non-empty string of <= 64 chars."""
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_EVENT_NAME_LENGTH:
        raise InvalidInputError(
            path, f"must be a non-empty string of at most {MAX_EVENT_NAME_LENGTH} characters"
        )


def validate_event_value(value: object, path: str = "value") -> None:
    """Raise :class:`InvalidInputError` unless ``value`` is ``None`` or a finite number."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(path, "must be a finite number or null")
