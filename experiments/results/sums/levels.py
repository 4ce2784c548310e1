"""Segments: the sums of each level of each dimension, out of the same pass as the whole's.

A unit's level in a dimension is the attribute's value at its first exposure (`unit_columns`),
`(none)` without it. The per-unit query groups the units once by (variant, first-exposure
attributes), a few hundred combinations; `by_dimension` then reads each dimension's level out
of each combination's attributes and sums the combinations per (dimension, level, variant) for
all dimensions at once, in the same statement (a small table of dimension numbers cross-joined
to the combinations, never one query per level), so JSON is parsed per combination, not per
unit. Sufficient
statistics add up, so the rest is done on the sums in Python (`segment_aggregates`): levels
that are the same value spelt differently merge, each dimension keeps its `MAX_LEVELS` levels
with the most units and merges the rest into `other`, and the whole is the sum of the first
dimension's levels (every unit has exactly one level in each dimension).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import Integer, case, func, literal, select, true, union_all
from sqlalchemy.sql.expression import ColumnElement, Select, Subquery

from experiments.results.sums.groups import Aggregates, GroupKey, GroupSums, VariantSums
from experiments.results.sums.sql_functions import attribute_value
from experiments.results.sums.unit_columns import ATTRIBUTES, MULTI_VARIANT

MAX_LEVELS = 20
"""Levels kept per dimension, those with the most units; the rest are summed as `other`."""
NONE_LEVEL = "(none)"
"""The level of units whose first exposure did not carry the attribute."""
OTHER_LEVEL = "other"
"""The levels beyond the `MAX_LEVELS` largest, summed."""
DIMENSION, LEVEL = "dimension", "level"
"""Labels of the dimension's number and the level's JSON text in `by_dimension`'s rows."""

RawKey = tuple[int, str | None, str]
"""A row of `by_dimension`: the dimension's number, the level as JSON text (None: absent) and
the variant."""


def by_dimension(
    combinations: Subquery, dimensions: Sequence[str], keys: Sequence[str], summed: Sequence[str]
) -> Select[Any]:
    """`combinations` (one row per `keys` and first-exposure attributes, `ATTRIBUTES`) summed
    per dimension number (`DIMENSION`, the index in `dimensions`), level (`LEVEL`: the
    attribute's value as JSON text) and `keys`, columns `summed` by label."""
    numbers = union_all(
        *(select(literal(index, Integer).label(DIMENSION)) for index in range(len(dimensions)))
    ).subquery("dimensions")
    number = numbers.c[DIMENSION]
    attributes = combinations.c[ATTRIBUTES]
    level = case(
        {
            index: attribute_value(attributes, literal(name))
            for index, name in enumerate(dimensions)
        },
        value=number,
    )
    grouped: list[ColumnElement[Any]] = [
        number,
        level.label(LEVEL),
        *(combinations.c[key] for key in keys),
    ]
    sums = [func.sum(combinations.c[label]).label(label) for label in summed]
    return (
        select(*grouped, *sums)
        .select_from(combinations.join(numbers, true()))
        .group_by(number, level, *(combinations.c[key] for key in keys))
    )


def level_name(text: str | None) -> str:
    """The level a value's JSON text names: a string as it is, `true`/`false`, a number as
    JSON writes it, `(none)` for an absent attribute or null."""
    if text is None:
        return NONE_LEVEL
    value = json.loads(text)
    if value is None:
        return NONE_LEVEL
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def add_sums(first: VariantSums, second: VariantSums) -> VariantSums:
    """The sums of two disjoint sets of units (sufficient statistics add up)."""
    left, right = first.as_fields(), second.as_fields()
    total: dict[str, float | None] = {}
    for name in left.keys() | right.keys():  # fields stored only when set are 0 elsewhere
        value, other = left.get(name, 0.0), right.get(name, 0.0)
        # None: a count the source does not give (empty sums); the other side's stands.
        total[name] = other if value is None else value if other is None else value + other
    return VariantSums.from_fields(total)


def add_groups(first: GroupSums, second: GroupSums) -> GroupSums:
    return GroupSums(
        units=first.units + second.units,
        metrics={key: add_sums(sums, second.metrics[key]) for key, sums in first.metrics.items()},
    )


def segment_aggregates(
    raw: Mapping[RawKey, GroupSums],
    variants: Sequence[str],
    dimensions: Sequence[str],
    empty: GroupSums,
    caps: dict[str, float | None] | None = None,
) -> Aggregates:
    """The whole and every dimension's levels from `by_dimension`'s groups: levels named and
    merged, at most `MAX_LEVELS` per dimension (the rest `other`, then `(none)`), every variant
    in every level (zero sums without units)."""
    per_level: list[dict[str, dict[str, GroupSums]]] = [{} for _ in dimensions]
    several: list[dict[str, int]] = [{} for _ in dimensions]
    for (number, text, variant), sums in raw.items():
        name = level_name(text)
        if variant == MULTI_VARIANT:
            several[number][name] = several[number].get(name, 0) + sums.units
            continue
        if variant not in variants:
            continue
        found = per_level[number].setdefault(name, {})
        found[variant] = add_groups(found[variant], sums) if variant in found else sums
    segments: dict[GroupKey, GroupSums] = {}
    for dimension, levels in zip(dimensions, per_level, strict=True):
        for level, groups in _capped(levels).items():
            for variant in variants:
                key = GroupKey(variant=variant, dimension=dimension, level=level)
                segments[key] = groups.get(variant, empty)
    whole = {GroupKey(variant=variant): empty for variant in variants}
    for level_groups in per_level[0].values() if per_level else ():
        for variant, sums in level_groups.items():
            key = GroupKey(variant=variant)
            whole[key] = add_groups(whole[key], sums)
    multi_variant_units = sum(several[0].values()) if several else 0
    return Aggregates(whole, multi_variant_units, caps or {}, segments)


def _capped(levels: dict[str, dict[str, GroupSums]]) -> dict[str, dict[str, GroupSums]]:
    """The `MAX_LEVELS` named levels with the most units (ties by name), then `other` (the rest
    summed) and `(none)`."""

    def units(name: str) -> int:
        return sum(group.units for group in levels[name].values())

    named = sorted((name for name in levels if name != NONE_LEVEL), key=lambda n: (-units(n), n))
    kept = {name: levels[name] for name in named[:MAX_LEVELS] if name != OTHER_LEVEL}
    rest = [levels[name] for name in named[MAX_LEVELS:]]
    if OTHER_LEVEL in named[:MAX_LEVELS]:
        rest.append(levels[OTHER_LEVEL])  # a value spelt "other" joins the rest
    if rest:
        merged: dict[str, GroupSums] = {}
        for groups in rest:
            for variant, sums in groups.items():
                merged[variant] = add_groups(merged[variant], sums) if variant in merged else sums
        kept[OTHER_LEVEL] = merged
    if NONE_LEVEL in levels:
        kept[NONE_LEVEL] = levels[NONE_LEVEL]
    return kept
