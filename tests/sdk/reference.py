"""Deliberately simple reference implementations, independent of vekst_sdk's code.

They follow docs/assignment.md literally (pure-Python MurmurHash3, plain loops) so the test
vectors are checked against the specification rather than against the SDK itself.
"""

from __future__ import annotations

import math
import re
from typing import Any

MASK = 0xFFFFFFFF


def murmur3_x86_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3 x86_32 as published by Austin Appleby, written out step by step."""
    c1, c2 = 0xCC9E2D51, 0x1B873593
    h = seed & MASK
    block_count = len(data) // 4
    for block in range(block_count):
        k = int.from_bytes(data[4 * block : 4 * block + 4], "little")
        k = (k * c1) & MASK
        k = ((k << 15) | (k >> 17)) & MASK
        k = (k * c2) & MASK
        h ^= k
        h = ((h << 13) | (h >> 19)) & MASK
        h = (h * 5 + 0xE6546B64) & MASK
    tail = data[4 * block_count :]
    k = 0
    for index in reversed(range(len(tail))):
        k = (k << 8) | tail[index]
    if tail:
        k = (k * c1) & MASK
        k = ((k << 15) | (k >> 17)) & MASK
        k = (k * c2) & MASK
        h ^= k
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & MASK
    h ^= h >> 16
    return h


def spec_hash(text: str) -> int:
    return murmur3_x86_32(text.encode("utf-8"), 0)


def spec_override_digest(salt: str, unit_id: str) -> str:
    """Seeds 0 and 1 over "override:" + salt + ":" + unit id, each as 8 hex digits."""
    data = ("override:" + salt + ":" + unit_id).encode("utf-8")
    return f"{murmur3_x86_32(data, 0):08x}{murmur3_x86_32(data, 1):08x}"


def spec_unit_id_ok(unit_id: str) -> bool:
    if not (1 <= len(unit_id) <= 256) or unit_id.strip() == "":
        return False
    try:
        unit_id.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def spec_attributes_ok(attributes: Any) -> bool:
    if attributes is None:
        return True
    for value in attributes.values():
        if isinstance(value, float) and not math.isfinite(value):
            return False
        if not isinstance(value, str | int | float | bool):
            return False
    return True


def spec_condition(condition: dict[str, Any], attributes: dict[str, Any]) -> bool:
    """Targeting semantics of docs/assignment.md, one branch per operator."""
    if "all" in condition:
        return all(spec_condition(child, attributes) for child in condition["all"])
    if "any" in condition:
        return any(spec_condition(child, attributes) for child in condition["any"])
    if "not" in condition:
        return not spec_condition(condition["not"], attributes)
    name, op = condition["attribute"], condition["op"]
    value: Any = condition.get("value")
    present = name in attributes
    actual: Any = attributes.get(name)

    def same(left: Any, right: Any) -> bool:
        return (
            isinstance(left, bool) == isinstance(right, bool)
            and isinstance(left, str) == isinstance(right, str)
            and left == right
        )

    def is_number(item: Any) -> bool:
        return isinstance(item, int | float) and not isinstance(item, bool)

    if op == "exists":
        return present == (True if value is None else value)
    if op == "eq":
        return present and same(actual, value)
    if op == "ne":
        return not (present and same(actual, value))
    if op == "in":
        return present and any(same(actual, item) for item in value)
    if op == "not_in":
        return not (present and any(same(actual, item) for item in value))
    if op in ("starts_with", "ends_with", "contains", "matches"):
        if not isinstance(actual, str):
            return False
        # A glob as a regular expression: fine for a reference, too slow for the SDKs.
        glob = ".*".join(re.escape(part) for part in value.split("*"))
        return {
            "starts_with": actual.startswith(value),
            "ends_with": actual.endswith(value),
            "contains": value in actual,
            "matches": re.fullmatch(glob, actual, re.DOTALL) is not None,
        }[op]
    if not (present and is_number(actual)):
        return False
    outcome: bool = {
        "gt": actual > value,
        "gte": actual >= value,
        "lt": actual < value,
        "lte": actual <= value,
    }[op]
    return outcome


def spec_holdout_group(holdout: dict[str, Any], unit_id: str) -> str | None:
    """ "holdout", "measurement" or None, by the holdout's own hash against floor(share * 2**32)."""
    hashed = spec_hash("holdout:" + holdout["salt"] + ":" + unit_id)
    threshold = math.floor(holdout["share"] * 2**32)
    if hashed < threshold:
        return "holdout"
    return "measurement" if hashed < 2 * threshold else None


def spec_covering(experiment: dict[str, Any], holdouts: list[dict[str, Any]]) -> Any:
    for holdout in holdouts:
        if experiment["key"] in holdout["experiments"]:
            if holdout["unit_type"] == experiment["unit_type"]:
                return holdout
    return None


def spec_assign(
    experiment: dict[str, Any],
    unit_id: str,
    attributes: dict[str, Any] | None,
    client_overrides: dict[str, str] | None,
    holdouts: list[dict[str, Any]] | None = None,
    sticky_store: dict[tuple[str, int, str], str] | None = None,
) -> tuple[str | None, bool]:
    """Return (variant key, in_experiment) by following the specification step by step.
    `sticky_store` maps (experiment, version, unit) to a variant; a fresh split of a sticky
    experiment is written to it."""
    variants = experiment["variants"]
    control = variants[0]["key"]
    holdout = spec_covering(experiment, holdouts or [])
    if experiment["status"] == "stopped":
        winner = experiment.get("winner")
        if winner and holdout and spec_unit_id_ok(unit_id):
            if spec_holdout_group(holdout, unit_id) == "holdout":
                return control, False
        return (winner or control), False
    if not spec_unit_id_ok(unit_id):
        return control, False
    if client_overrides and unit_id in client_overrides:
        return client_overrides[unit_id], False
    published = experiment.get("override_hashes") or {}
    digest = spec_override_digest(experiment["salt"], unit_id)
    if digest in published:
        return published[digest], False
    if not spec_attributes_ok(attributes):
        return control, False
    if holdout and spec_holdout_group(holdout, unit_id) == "holdout":
        return control, False
    targeting = experiment.get("targeting")
    if targeting is not None and not spec_condition(targeting, attributes or {}):
        return control, False
    version = experiment.get("sticky_version")
    entry = (experiment["key"], version or 0, unit_id)
    if version is not None and sticky_store is not None:
        kept = sticky_store.get(entry)
        if kept in [variant["key"] for variant in variants]:
            return kept, True
    salt = experiment["salt"]
    layer = experiment.get("layer")
    if layer is not None:
        bucket = spec_hash("layer:" + layer["key"] + ":" + unit_id) * 10000 // 2**32
        if not any(start <= bucket < end for start, end in layer["ranges"]):
            return control, False
    elif spec_hash("traffic:" + salt + ":" + unit_id) >= math.floor(experiment["traffic"] * 2**32):
        return control, False
    chosen = spec_split(variants, spec_hash("variant:" + salt + ":" + unit_id))
    if version is not None and sticky_store is not None:
        sticky_store[entry] = chosen
    return chosen, True


def spec_split(variants: list[dict[str, Any]], point: int) -> str:
    total = 0.0
    for variant in variants:
        total += variant["weight"]
    cumulative = 0.0
    for variant in variants[:-1]:
        cumulative += variant["weight"]
        if point < math.floor(cumulative * 2**32 / total):
            return str(variant["key"])
    return str(variants[-1]["key"])
