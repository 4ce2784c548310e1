"""An incremental look: the previous look's sums, plus for each unit whose events were stored
since (by ingestion order, `ingestion_marks`) its contribution now minus its contribution then.

A unit's contribution to the sums depends only on its own events up to the look's end and
ceiling; a unit none of whose events was stored since the previous look, nor dated after that
look's end, contributes the same. So the touched units (`touched_units`: from the events above
the previous mark, or from its `reread_from`) are aggregated twice by the same per-unit query
as a full look, restricted to them: at the previous look's end and ceiling (what the stored sums
hold of them) and at this look's. Sums add and subtract, so the result is the full look's: the
counts exactly, the sums to rounding. A unit that moves to another variant, to several, or to
another level (an earlier exposure stored late) leaves its old group and joins its new one.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select, union
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import Select

from experiments.models.metric import MetricDefinition
from experiments.results.sums.aggregation import (
    empty_group,
    level_sums,
    variant_sums,
    whole_aggregates,
)
from experiments.results.sums.groups import Aggregates, GroupKey, GroupSums, VariantSums
from experiments.results.sums.levels import (
    NONE_LEVEL,
    RawKey,
    add_groups,
    level_name,
    segment_aggregates,
)
from experiments.results.sums.unit_columns import (
    CONVERSIONS,
    EXPOSURES,
    MULTI_VARIANT,
    EventIds,
    UnitSet,
)

Key = TypeVar("Key", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Previous:
    """The look an incremental look starts from: its sums, end and ceiling, and where to read
    the events again from (`IngestionMark.reread_from`)."""

    aggregates: Aggregates
    end: datetime
    ceiling: EventIds
    reread_from: EventIds


def touched_units(
    experiment: str, events: Sequence[str], start: EventIds, ceiling: EventIds
) -> Select[Any]:
    """The units with an exposure to `experiment` or a conversion named in `events` whose id is
    from `start` up to `ceiling`."""
    exposures, conversions = EXPOSURES.c, CONVERSIONS.c
    exposed = select(exposures.unit_id).where(
        exposures.id.between(start.exposures, ceiling.exposures),
        exposures.experiment == experiment,
    )
    converted = select(conversions.unit_id).where(
        conversions.id.between(start.conversions, ceiling.conversions),
        conversions.name.in_(sorted(set(events))),
    )
    touched = union(exposed, converted).subquery("touched")
    return select(touched.c.unit_id)


def incremental_aggregates(
    connection: Connection,
    experiment: str,
    variants: Sequence[str],
    metrics: Sequence[MetricDefinition],
    dimensions: Sequence[str],
    previous: Previous,
    end: datetime,
    ceiling: EventIds,
) -> tuple[Aggregates, int]:
    """This look's aggregates from `previous`'s, and how many exposed units it read again."""
    touched = touched_units(experiment, event_names(metrics), previous.reread_from, ceiling)
    units: UnitSet = touched
    if connection.dialect.name == "postgresql":
        units = [str(unit) for unit in connection.execute(touched).scalars()]
    then, now = (previous.end, previous.ceiling), (end, ceiling)
    if not dimensions:
        old, new = (
            variant_sums(connection, experiment, metrics, at, True, counted, units)
            for at, counted in (then, now)
        )
        base = dict(previous.aggregates.groups)
        several = GroupSums(previous.aggregates.multi_variant_units, {})
        base[GroupKey(variant=MULTI_VARIANT)] = several
        combined = _combined(base, new, old)
        aggregates = whole_aggregates(combined, variants, metrics, {})
        return aggregates, sum(group.units for group in new.values())
    old_levels, new_levels = (
        level_sums(connection, experiment, metrics, at, True, dimensions, counted, units)
        for at, counted in (then, now)
    )
    base_levels = _stored_levels(previous.aggregates, dimensions)
    merged = _combined(base_levels, _named(new_levels), _named(old_levels))
    aggregates = segment_aggregates(merged, variants, dimensions, empty_group(metrics))
    read = sum(group.units for (number, _, _), group in new_levels.items() if number == 0)
    return aggregates, read


def event_names(metrics: Sequence[MetricDefinition]) -> list[str]:
    """The names of the conversions `metrics` read (every side), sorted."""
    sides = [(m.numerator_event, m.denominator_event, m.numerator_unless) for m in metrics]
    return sorted({name for names in sides for name in names if name is not None})


def _combined(
    base: Mapping[Key, GroupSums], new: Mapping[Key, GroupSums], old: Mapping[Key, GroupSums]
) -> dict[Key, GroupSums]:
    """`base` + `new` - `old` per group; a group left without units is dropped (a full look
    has no row for it, and reads zero sums)."""
    result: dict[Key, GroupSums] = {}
    for key in {**base, **new, **old}:
        units = sum(groups[key].units * sign for groups, sign in _signed(base, new, old, key))
        if units == 0:
            continue
        metrics: dict[str, VariantSums] = {}
        for groups, sign in _signed(base, new, old, key):
            for metric, sums in groups[key].metrics.items():
                metrics[metric] = _add(metrics.get(metric), sums, sign)
        result[key] = GroupSums(units, metrics)
    return result


def _signed(
    base: Mapping[Key, GroupSums],
    new: Mapping[Key, GroupSums],
    old: Mapping[Key, GroupSums],
    key: Key,
) -> list[tuple[Mapping[Key, GroupSums], int]]:
    return [(groups, sign) for groups, sign in ((base, 1), (new, 1), (old, -1)) if key in groups]


def _add(total: VariantSums | None, sums: VariantSums, sign: int) -> VariantSums:
    """`total` plus `sign` times `sums`, field by field (a field stored only when set is 0)."""
    right = sums.as_fields()
    left = {} if total is None else total.as_fields()
    fields = {
        name: (left.get(name) or 0.0) + sign * (right.get(name) or 0.0)
        for name in left.keys() | right.keys()
    }
    return VariantSums.from_fields(fields)


def _named(raw: Mapping[RawKey, GroupSums]) -> dict[RawKey, GroupSums]:
    """Raw level rows keyed by their level's name written as JSON text (None for `(none)`),
    so values spelt differently (`3`, `"3"`) and the stored levels meet under one key."""
    named: dict[RawKey, GroupSums] = {}
    for (number, text, variant), sums in raw.items():
        key = (number, _level_text(level_name(text)), variant)
        named[key] = add_groups(named[key], sums) if key in named else sums
    return named


def _stored_levels(aggregates: Aggregates, dimensions: Sequence[str]) -> dict[RawKey, GroupSums]:
    """The previous look's levels keyed as `_named` keys them, and its units in several
    variants under the first dimension (where `segment_aggregates` counts them)."""
    numbers = {name: index for index, name in enumerate(dimensions)}
    stored: dict[RawKey, GroupSums] = {
        (numbers[key.dimension], _level_text(key.level), key.variant): group
        for key, group in aggregates.segments.items()
        if key.dimension in numbers and key.level is not None
    }
    stored[(0, None, MULTI_VARIANT)] = GroupSums(aggregates.multi_variant_units, {})
    return stored


def _level_text(name: str) -> str | None:
    return None if name == NONE_LEVEL else json.dumps(name)
