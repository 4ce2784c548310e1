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
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Text, bindparam, func, select, union
from sqlalchemy.dialects.postgresql import ARRAY
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
Found = TypeVar("Found")


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
    units = _unit_set(
        connection, touched_units(experiment, event_names(metrics), previous.reread_from, ceiling)
    )
    then, now = (previous.end, previous.ceiling), (end, ceiling)
    if not dimensions:

        def whole(reader: Connection, at: datetime, counted: EventIds) -> dict[GroupKey, GroupSums]:
            return variant_sums(reader, experiment, metrics, at, True, counted, units)

        old, new = _at_both_ends(connection, whole, then, now)
        base = dict(previous.aggregates.groups)
        several = GroupSums(previous.aggregates.multi_variant_units, {})
        base[GroupKey(variant=MULTI_VARIANT)] = several
        combined = _combined(base, new, old)
        aggregates = whole_aggregates(combined, variants, metrics, {})
        return aggregates, sum(group.units for group in new.values())

    def levels(reader: Connection, at: datetime, counted: EventIds) -> dict[RawKey, GroupSums]:
        return level_sums(reader, experiment, metrics, at, True, dimensions, counted, units)

    old_levels, new_levels = _at_both_ends(connection, levels, then, now)
    base_levels = _stored_levels(previous.aggregates, dimensions)
    merged = _combined(base_levels, _named(new_levels), _named(old_levels))
    aggregates = segment_aggregates(merged, variants, dimensions, empty_group(metrics))
    read = sum(group.units for (number, _, _), group in new_levels.items() if number == 0)
    return aggregates, read


def _at_both_ends(
    connection: Connection,
    read: Callable[[Connection, datetime, EventIds], Found],
    then: tuple[datetime, EventIds],
    now: tuple[datetime, EventIds],
) -> tuple[Found, Found]:
    """`read` at the previous look's end and ceiling (`then`) and at this look's (`now`). On
    PostgreSQL both at once: `then` on a connection of its own in a thread, so the database
    works on the two together (about half the wall time when it has a core to spare). Both see
    the same events: every id up to either ceiling is committed and final (`ingestion_marks`),
    and this look stores nothing before it has read them. SQLite reads them one after the
    other: two of its queries on two threads of one process contend, and each took about three
    times as long as alone (docs/benchmarks.md, "Looks in parts at once")."""
    if connection.dialect.name == "sqlite":
        return read(connection, *then), read(connection, *now)
    with connection.engine.connect() as own, ThreadPoolExecutor(max_workers=1) as thread:
        earlier = thread.submit(read, own, *then)
        later = read(connection, *now)
        return earlier.result(), later


def _unit_set(connection: Connection, touched: Select[Any]) -> UnitSet:
    """The touched units as the two aggregations read them: on SQLite the query itself (its
    planner looks each unit up in the indexes); on PostgreSQL their ids, read once and bound as
    one array that the aggregations unnest, so the planner knows how many there are and looks
    each up in the indexes (`= ANY` of the array instead would scan both tables whole, in
    parallel, once the array is long: at 25,000 units of 1,000,000 it did)."""
    if connection.dialect.name != "postgresql":
        return touched
    ids = [str(unit) for unit in connection.execute(touched).scalars()]
    array = bindparam("touched_units", ids, type_=ARRAY(Text))
    return select(func.unnest(array).column_valued("unit_id"))


def event_names(metrics: Sequence[MetricDefinition]) -> list[str]:
    """The names of the conversions `metrics` read (every side), sorted."""
    sides = [(m.numerator_event, m.denominator_event, m.numerator_unless) for m in metrics]
    return sorted({name for names in sides for name in names if name is not None})


def _combined(
    base: Mapping[Key, GroupSums], new: Mapping[Key, GroupSums], old: Mapping[Key, GroupSums]
) -> dict[Key, GroupSums]:
    """`base` + `new` - `old` per group, field by field (a field stored only when set is 0); a
    group left without units is dropped (a full look has no row for it, and reads zero sums).
    Each metric's fields are added up as numbers and read back as sums once."""
    result: dict[Key, GroupSums] = {}
    for key in {**base, **new, **old}:
        signed = [
            (groups[key], sign)
            for groups, sign in ((base, 1), (new, 1), (old, -1))
            if key in groups
        ]
        units = sum(group.units * sign for group, sign in signed)
        if units == 0:
            continue
        fields: dict[str, dict[str, float]] = {}
        for group, sign in signed:
            for metric, sums in group.metrics.items():
                total = fields.setdefault(metric, {})
                for name, value in sums.as_fields().items():
                    total[name] = (total.get(name) or 0.0) + sign * (value or 0.0)
        metrics = {metric: VariantSums.from_fields(total) for metric, total in fields.items()}
        result[key] = GroupSums(units, metrics)
    return result


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
