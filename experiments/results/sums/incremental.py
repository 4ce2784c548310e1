"""An incremental look: the previous look's sums, plus for each unit whose events were stored
since (by ingestion order, `ingestion_marks`) its contribution now minus its contribution then.

A unit's contribution to the sums depends only on its own events up to the look's end and
ceiling; a unit none of whose events was stored since the previous look, nor dated after that
look's end, contributes the same. So the touched units (`touched_units`: from the events above
the previous mark, or from its `reread_from`) are aggregated by the same per-unit query as a
full look, restricted to them, at two ends in one reading of their events (`both_ends`): the
previous look's end and ceiling (what the stored sums hold of them) and this look's. Sums add
and subtract, so the result is the full look's: the counts exactly, the sums to rounding. A
unit that moves to another variant, to several, or to another level (an earlier exposure
stored late) leaves its old group and joins its new one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Text, bindparam, cast, func, select, union
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import Select

from experiments.models.metric import MetricDefinition
from experiments.results.sums.aggregation import (
    at_both_ends,
    empty_group,
    level_key,
    row_sums,
    whole_aggregates,
)
from experiments.results.sums.both_ends import LOOK_END, Cutoff
from experiments.results.sums.groups import Aggregates, GroupKey, GroupSums, VariantSums
from experiments.results.sums.levels import (
    DIMENSION,
    NONE_LEVEL,
    RawKey,
    add_groups,
    level_name,
    segment_aggregates,
)
from experiments.results.sums.unit_columns import (
    CONVERSIONS,
    EVERY_UNIT,
    EXPOSURES,
    MULTI_VARIANT,
    EventIds,
    UnitSet,
)
from experiments.results.sums.unit_parts import (
    CompiledPart,
    PartResult,
    Row,
    added_up,
    at_once,
    compile_part,
    part_count,
    run_part,
    sqlite_parts,
    where_others_run,
)

MIN_PART_UNITS = 2_000
"""From this many touched units an incremental look on PostgreSQL runs in parts at once: below,
a part's connection and thread cost more than half the query saves."""

MIN_SQLITE_PART_UNITS = 5_000
"""The same on an SQLite file, where each part after the first starts an interpreter (about
30 ms, some 2,000 units' work)."""

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
    earlier, later = Cutoff(previous.end, previous.ceiling), Cutoff(end, ceiling)
    if not later.covers(earlier):
        raise ValueError("an incremental look ends before the look it starts from")
    touched = touched_units(experiment, event_names(metrics), previous.reread_from, ceiling)

    arguments = (experiment, metrics, dimensions)

    def sums(reader: Connection, units: UnitSet) -> PartResult:
        return run_part(reader, at_both_ends(*arguments, units, earlier, later), EVERY_UNIT)

    def statements(units: UnitSet) -> CompiledPart:
        look = at_both_ends(*arguments, units, earlier, later)
        return compile_part(connection.dialect, look, EVERY_UNIT)

    rows, labels = _in_parts(connection, touched, sums, statements)
    new = [row for row in rows if row[LOOK_END] == 1]
    old = [row for row in rows if row[LOOK_END] == 0]
    if not dimensions:

        def groups(found: list[Row]) -> dict[GroupKey, GroupSums]:
            return {GroupKey.of_row(row): row_sums(row, labels) for row in found}

        base = dict(previous.aggregates.groups)
        several = GroupSums(previous.aggregates.multi_variant_units, {})
        base[GroupKey(variant=MULTI_VARIANT)] = several
        combined = _combined(base, groups(new), groups(old))
        aggregates = whole_aggregates(combined, variants, metrics, {})
        return aggregates, sum(int(row["units"]) for row in new)

    def levels(found: list[Row]) -> dict[RawKey, GroupSums]:
        return _named({level_key(row): row_sums(row, labels) for row in found})

    base_levels = _stored_levels(previous.aggregates, dimensions)
    merged = _combined(base_levels, levels(new), levels(old))
    aggregates = segment_aggregates(merged, variants, dimensions, empty_group(metrics))
    read = sum(int(row["units"]) for row in new if int(row[DIMENSION]) == 0)
    return aggregates, read


def _in_parts(
    connection: Connection,
    touched: Select[Any],
    sums: Callable[[Connection, UnitSet], PartResult],
    statements: Callable[[UnitSet], CompiledPart],
) -> PartResult:
    """`sums` of the touched units, in parts at once where the database has the room: their
    ids are read once and dealt out to `part_count` parts (every `parts`-th id to each, so that
    each gets its share of new and old units), and the parts' rows added up.

    - PostgreSQL (from `MIN_PART_UNITS`): each part on a connection of its own
      (`unit_parts.at_once`), its ids bound as an array's text the query unnests (`_bound`), so
      the planner knows how many there are and looks each up in the indexes (`= ANY` of the
      array instead would scan both tables whole, in parallel, once the array is long: at
      25,000 units of 1,000,000 it did).
    - An SQLite file (from `MIN_SQLITE_PART_UNITS`): the first part here, the others' compiled
      `statements` each in an interpreter of its own (`unit_parts.sqlite_parts`), the ids as a
      JSON array (`_listed`). Below the minimum, or in memory, one query that reads the touched
      units itself.

    Every part sees the same events: every id up to either ceiling is committed and final
    (`ingestion_marks`), and this look stores nothing before it has read them."""
    postgres = connection.dialect.name == "postgresql"
    if not postgres and where_others_run(connection) != "processes":
        return sums(connection, touched)
    # The ids in one row, an array or a JSON array: about half the time of reading them row by
    # row.
    found = touched.subquery("touched")
    if postgres:
        ids = sorted(connection.execute(select(func.array_agg(found.c.unit_id))).scalar() or [])
    else:
        listed = connection.execute(select(func.json_group_array(found.c.unit_id))).scalar()
        ids = sorted(json.loads(listed or "[]"))
    smallest = MIN_PART_UNITS if postgres else MIN_SQLITE_PART_UNITS
    parts = part_count() if len(ids) >= smallest else 1
    if parts == 1 and not postgres:
        return sums(connection, touched)
    sets = [(_bound if postgres else _listed)(ids[first::parts]) for first in range(parts)]

    def here(units: UnitSet) -> Callable[[Connection], PartResult]:
        return lambda reader: sums(reader, units)

    def apart(units: UnitSet) -> Callable[[], CompiledPart]:
        return lambda: statements(units)

    if postgres:
        found_parts = at_once(connection, [here(units) for units in sets])
        rows = [row for part, _ in found_parts for row in part]
        labels = found_parts[0][1]
    else:
        rows, labels = sqlite_parts(connection, [(here(units), apart(units)) for units in sets])
    columns = (label for metric_labels in labels.values() for label in metric_labels.values())
    return added_up(rows, ["units", *columns]), labels


def _bound(ids: list[str]) -> UnitSet:
    """`ids` as one array the query unnests, bound as the array's text: PostgreSQL reads it into
    a constant array (so the planner counts its elements) several times faster than the driver
    writes a list of 25,000 strings as one. Each id is quoted, its backslashes and double
    quotes escaped (a unit id never holds NUL)."""
    elements = ('"' + unit.replace("\\", "\\\\").replace('"', '\\"') + '"' for unit in ids)
    text = "{" + ",".join(elements) + "}"
    array = cast(bindparam("touched_units", text, type_=Text), ARRAY(Text))
    return select(func.unnest(array).column_valued("unit_id"))


def _listed(ids: list[str]) -> UnitSet:
    """`ids` as one JSON array, bound as text, read by SQLite's `json_each`."""
    listed = func.json_each(bindparam("touched_units", json.dumps(ids), type_=Text))
    return select(listed.table_valued("value").c.value.label("unit_id"))


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
