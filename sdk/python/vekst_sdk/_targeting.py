"""Targeting conditions: validation (for the server's 422) and compilation to predicates.

A condition is one of::

    {"attribute": "country", "op": "eq", "value": "NO"}
    {"all": [condition, ...]}   {"any": [condition, ...]}   {"not": condition}

Operators: ``eq``/``ne`` (scalar value), ``in``/``not_in`` (non-empty list of scalars),
``gt``/``gte``/``lt``/``lte`` (number), ``exists`` (optional boolean value, default true), and
on text ``starts_with``/``ends_with``/``contains``/``matches`` (string value; ``matches`` is a
glob whose ``*`` stands for any run of characters, not a regular expression; an attribute that
is not a string matches none of them). Scalars are strings, finite numbers and booleans; a
boolean never equals a number.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias, TypeGuard

from vekst_sdk._errors import TargetingError

AttributeValue: TypeAlias = str | int | float | bool
Attributes: TypeAlias = Mapping[str, AttributeValue]
Predicate: TypeAlias = Callable[[Attributes], bool]

SCALAR_OPS = frozenset({"eq", "ne"})
LIST_OPS = frozenset({"in", "not_in"})
NUMBER_OPS = frozenset({"gt", "gte", "lt", "lte"})
TEXT_OPS = frozenset({"starts_with", "ends_with", "contains", "matches"})
ALL_OPS = SCALAR_OPS | LIST_OPS | NUMBER_OPS | TEXT_OPS | {"exists"}
MAX_DEPTH = 16
MAX_LIST_LENGTH = 1000

_MISSING = object()


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_scalar(value: object) -> bool:
    if isinstance(value, str | bool):
        return True
    return _is_number(value) and math.isfinite(value)


def validate_targeting(condition: object, path: str = "targeting") -> None:
    """Check a targeting condition (``None`` means "everyone") against the grammar.

    Raises :class:`TargetingError` whose ``path`` names the offending element, for example
    ``targeting.all[1].value``, and whose message names the rule.
    """
    if condition is None:
        return
    _validate(condition, path, 0)


def _validate(condition: object, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise TargetingError(path, f"conditions may nest at most {MAX_DEPTH} levels deep")
    if not isinstance(condition, Mapping):
        raise TargetingError(path, "a condition must be an object")
    keys = set(condition)
    for combinator in ("all", "any"):
        if combinator in condition:
            _refuse_extra_keys(keys, {combinator}, path)
            children = condition[combinator]
            if not isinstance(children, list) or not children:
                raise TargetingError(
                    f"{path}.{combinator}", "must be a non-empty list of conditions"
                )
            for index, child in enumerate(children):
                _validate(child, f"{path}.{combinator}[{index}]", depth + 1)
            return
    if "not" in condition:
        _refuse_extra_keys(keys, {"not"}, path)
        _validate(condition["not"], f"{path}.not", depth + 1)
        return
    if "attribute" not in condition:
        raise TargetingError(
            path, "a condition needs 'attribute' and 'op', or one of 'all', 'any', 'not'"
        )
    _refuse_extra_keys(keys, {"attribute", "op", "value"}, path)
    _validate_comparison(condition, path)


def _refuse_extra_keys(keys: set[Any], allowed: set[str], path: str) -> None:
    extra = sorted(str(key) for key in keys - allowed)
    if extra:
        raise TargetingError(
            f"{path}.{extra[0]}", f"unknown key; allowed here: {', '.join(sorted(allowed))}"
        )


def _validate_comparison(condition: Mapping[str, Any], path: str) -> None:
    attribute = condition["attribute"]
    if not isinstance(attribute, str) or not attribute:
        raise TargetingError(f"{path}.attribute", "must be a non-empty string")
    if "op" not in condition:
        raise TargetingError(f"{path}.op", "is required")
    op = condition["op"]
    if not isinstance(op, str) or op not in ALL_OPS:
        raise TargetingError(f"{path}.op", f"unknown operator; use one of {sorted(ALL_OPS)}")
    value_path = f"{path}.value"
    if op == "exists":
        if "value" in condition and not isinstance(condition["value"], bool):
            raise TargetingError(value_path, "'exists' takes an optional boolean value")
        return
    if "value" not in condition:
        raise TargetingError(value_path, f"is required for '{op}'")
    _VALUE_RULES[op](op, condition["value"], value_path)


def _check_scalar(op: str, value: object, path: str) -> None:
    if not _is_scalar(value):
        raise TargetingError(path, f"'{op}' needs a string, finite number or boolean")


def _check_number(op: str, value: object, path: str) -> None:
    if not (_is_number(value) and math.isfinite(value)):
        raise TargetingError(path, f"'{op}' needs a finite number")


def _check_text(op: str, value: object, path: str) -> None:
    if not isinstance(value, str):
        raise TargetingError(path, f"'{op}' needs a string")


def _check_list(op: str, value: object, path: str) -> None:
    if not isinstance(value, list) or not value:
        raise TargetingError(path, f"'{op}' needs a non-empty list")
    if len(value) > MAX_LIST_LENGTH:
        raise TargetingError(path, f"lists hold at most {MAX_LIST_LENGTH} values")
    for index, item in enumerate(value):
        if not _is_scalar(item):
            raise TargetingError(f"{path}[{index}]", "must be a string, finite number or boolean")


# How each operator's value is checked (``exists`` is checked apart: its value is optional).
_VALUE_RULES: dict[str, Callable[[str, object, str], None]] = {
    **dict.fromkeys(SCALAR_OPS, _check_scalar),
    **dict.fromkeys(NUMBER_OPS, _check_number),
    **dict.fromkeys(LIST_OPS, _check_list),
    **dict.fromkeys(TEXT_OPS, _check_text),
}


def glob_match(text: str, glob: str) -> bool:
    """Whether `text` matches `glob`, whose `*` stands for any run of characters (none included)
    and every other character for itself. The pieces between the stars are found in order, left
    to right, with no regular expression, so a hostile glob cannot make the match backtrack."""
    *parts, last = glob.split("*")
    if not parts:
        return text == glob
    at = 0
    for index, part in enumerate(parts):
        found = text.find(part, at)
        if found < 0 or (index == 0 and found > 0):
            return False
        at = found + len(part)
    return len(text) - len(last) >= at and text.endswith(last)


_TEXT_TESTS: dict[str, Callable[[str, str], bool]] = {
    "starts_with": str.startswith,
    "ends_with": str.endswith,
    "contains": lambda text, value: value in text,
    "matches": glob_match,
}


def compile_targeting(condition: Mapping[str, Any] | None) -> Predicate | None:
    """Turn a validated condition into a predicate over attributes (``None`` = everyone)."""
    if condition is None:
        return None
    return _compile(condition)


def _typed(value: object) -> tuple[int, object]:
    """Key that keeps booleans, numbers and strings apart (``True`` must not equal ``1``)."""
    if isinstance(value, bool):
        return (0, value)
    if isinstance(value, int | float):
        return (1, value)
    return (2, value)


def _compile(condition: Mapping[str, Any]) -> Predicate:
    if "all" in condition:
        all_children = tuple(_compile(child) for child in condition["all"])
        return lambda attrs: all(child(attrs) for child in all_children)
    if "any" in condition:
        any_children = tuple(_compile(child) for child in condition["any"])
        return lambda attrs: any(child(attrs) for child in any_children)
    if "not" in condition:
        inner = _compile(condition["not"])
        return lambda attrs: not inner(attrs)
    return _compile_comparison(condition["attribute"], condition["op"], condition.get("value"))


def _compile_comparison(name: str, op: str, value: Any) -> Predicate:
    if op == "exists":
        wanted = True if value is None else bool(value)
        return lambda attrs: (name in attrs) is wanted
    if op in SCALAR_OPS:
        target = _typed(value)
        if op == "eq":
            return lambda attrs: name in attrs and _typed(attrs[name]) == target
        return lambda attrs: name not in attrs or _typed(attrs[name]) != target
    if op in LIST_OPS:
        members = frozenset(_typed(item) for item in value)
        if op == "in":
            return lambda attrs: name in attrs and _typed(attrs[name]) in members
        return lambda attrs: name not in attrs or _typed(attrs[name]) not in members
    if op in TEXT_OPS:
        test = _TEXT_TESTS[op]
        return lambda attrs: isinstance(actual := attrs.get(name), str) and test(actual, value)
    return _compile_number(name, op, value)


def _compile_number(name: str, op: str, bound: float) -> Predicate:
    # Python compares int and float exactly, so no conversion (and no precision loss) here.
    def numeric(attrs: Attributes) -> float | None:
        actual = attrs.get(name, _MISSING)
        return actual if _is_number(actual) else None

    if op == "gt":
        return lambda attrs: (x := numeric(attrs)) is not None and x > bound
    if op == "gte":
        return lambda attrs: (x := numeric(attrs)) is not None and x >= bound
    if op == "lt":
        return lambda attrs: (x := numeric(attrs)) is not None and x < bound
    return lambda attrs: (x := numeric(attrs)) is not None and x <= bound
