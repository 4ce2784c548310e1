"""The backfill's one SQL query: per group and look, the change of each metric's statistics.

Each unit's events are bucketed into looks (the first look end at or after the event); a window
function accumulates the unit's features per look, and each unit-look row carries only the
change since the unit's previous row. `backfill.daily_aggregates` sums and accumulates them.

The query reads the units of `backfill_units.unit_looks` (per exposed unit, its looks; a table
of them on SQLite, `unit_tables`) and is built from one function per subquery, in the order they
read each other: `_unit_rows` (a unit's events), `_per_look`, `_row_features`, `_row_values`,
`_changes`; beside them `_entering` and `_counts` for the unit counts. Every output column is
labelled, and the caller reads the rows by label.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    and_,
    case,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.sql.expression import (
    ColumnElement,
    CompoundSelect,
    FromClause,
    Select,
    Subquery,
)

from experiments.models.metric import MetricDefinition
from experiments.results.sums.backfill_changes import (
    metric_changes,
    metric_values,
    reader,
    sides_read,
)
from experiments.results.sums.backfill_units import look_of
from experiments.results.sums.groups import GROUP_COLUMNS
from experiments.results.sums.levels import by_dimension
from experiments.results.sums.sql_functions import once_per_row, scanned
from experiments.results.sums.unit_columns import (
    ATTRIBUTES,
    CONVERSIONS,
    EventIds,
    UnitFeatures,
    equal_sums,
    feature_value,
    unit_features,
)
from experiments.results.sums.unit_tables import POSITION

LOOK, UNITS, SEVERAL = "look", "units", "several"
"""Labels of the look's index, the units entering the group, and those entering several
variants."""
ACTIVE, ACTIVE_BEFORE = "active", "active_before"
"""Labels of whether a unit counts at a row, and whether it counted at its previous row."""


def build_query(
    units: FromClause,
    metrics: Sequence[MetricDefinition],
    ends: list[datetime],
    *,
    cuped: bool,
    dimensions: Sequence[str] = (),
    ceiling: EventIds | None = None,
) -> tuple[CompoundSelect[Any] | Select[Any], dict[str, dict[str, str]]]:
    """Per group (`GROUP_COLUMNS`) and look index (`LOOK`): units entering (`UNITS`), units
    entering several variants (`SEVERAL`) and the change of each metric's sums, with per metric
    key the labels of its change columns (sum name -> label). `units`: the rows of `unit_looks`
    of the same arguments (the CTE, or a table of its rows). With `dimensions`, per
    (dimension, level) as well (`levels.by_dimension`); with `ceiling`, only the events up to
    its ids."""
    found = unit_features(metrics, cuped)
    levels = [ATTRIBUTES] if dimensions else []
    per_look = _per_look(_unit_rows(units, ends, found, levels, ceiling), units, found, levels)
    features = _row_features(per_look, found, levels)
    values = _row_values(features, metrics, found, levels)
    changes, labels = _changes(values, metrics, found, levels)
    named = (label for columns in labels.values() for label in columns.values())
    sum_labels = list(dict.fromkeys(named))  # a sum equal to another reads its column
    combined = union_all(changes, _counts(_entering(units, levels), sum_labels, levels))
    if not dimensions:
        return combined, labels
    keys = [*GROUP_COLUMNS, LOOK]
    summed = [UNITS, SEVERAL, *sum_labels]
    return by_dimension(combined.subquery("combinations"), dimensions, keys, summed), labels


def _unit_rows(
    units: FromClause,
    ends: list[datetime],
    found: UnitFeatures,
    levels: list[str],
    ceiling: EventIds | None,
) -> Subquery:
    """Per event of a unit: its look and features, plus a zero row where a unit leaves."""
    unit, conversions, end = units.c, CONVERSIONS.c, ends[-1]
    features, labels = found.features, found.labels
    zeros = [literal(0.0, Float).label(labels[feature]) for feature in features]
    carried = [_unit_key(units), *_carried(units, levels)]
    # A unit without events has the value 0 on every side a row would carry (denominators of 1
    # are counted from `units` directly), so only looks with events, and the look that sees a
    # unit in a second variant (its values leave the sums), need rows.
    entering_several = select(*carried, unit.several_look.label(LOOK), *zeros).where(
        unit.several_look.is_not(None)
    )
    window_ends = {hours: unit[f"window_end_{index}"] for index, hours in enumerate(found.windows)}
    # Pre-period events (CUPED) count from the unit's first look, like every later look.
    event_look = case(
        (conversions.timestamp < unit.first_at, unit.first_look),
        else_=look_of(conversions.timestamp, ends, 0, len(ends) - 1),
    )
    events = select(
        *carried,
        event_look.label(LOOK),
        *(
            feature_value(feature, conversions, unit.first_at, window_ends).label(labels[feature])
            for feature in features
        ),
    ).select_from(
        units.join(
            CONVERSIONS,
            and_(
                conversions.unit_id == unit.unit_id,
                scanned(conversions.name).in_(sorted({feature.event for feature in features})),
                conversions.timestamp <= end,
                conversions.timestamp
                >= (unit.pre_start if found.with_covariate else unit.first_at),
                *([] if ceiling is None else [conversions.id <= ceiling.conversions]),
            ),
        )
    )
    return union_all(entering_several, events).subquery("rows")


def _per_look(
    rows: Subquery, units: FromClause, found: UnitFeatures, levels: list[str]
) -> Subquery:
    """Per unit and look: each feature so far (`c_`) and its change at this look (`g_`), and
    the unit's columns (`_unit_columns`: carried through the grouping, or read back from a
    table of units by its row's number)."""
    # The value at the unit's previous row is then `c - g`: no LAG.
    labels = [found.labels[feature] for feature in found.features]
    key = rows.c[_unit_key(units).name]
    cumulative = [
        func.sum(func.sum(rows.c[label]))
        .over(partition_by=key, order_by=rows.c[LOOK])
        .label(f"c_{label}")
        for label in labels
    ]
    here = [func.sum(rows.c[label]).label(f"g_{label}") for label in labels]
    carried = [
        func.max(rows.c[column.name]).label(column.name) for column in _carried(units, levels)
    ]
    per_look = (
        select(key, rows.c[LOOK], *carried, *cumulative, *here)
        .group_by(key, rows.c[LOOK])
        .subquery("per_look")
    )
    if POSITION not in units.c:
        return per_look
    # A table's rows come back by their number after the grouping and the windows, so these
    # sort and buffer only the number, the look and the features.
    # Every number has its row; an outer join lets SQLite read the grouped rows as they come
    # (a co-routine) rather than write them to a table first, as it does for an inner join.
    joined = per_look.outerjoin(units, units.c[POSITION] == per_look.c[POSITION])
    read_back = _unit_columns(units, levels)
    return select(per_look, *read_back).select_from(joined).subquery("per_look_units")


def _unit_key(units: FromClause) -> ColumnElement[Any]:
    """What a unit's rows are grouped by: its row's number in a table of units, or its id."""
    return units.c.get(POSITION, units.c.unit_id)


def _unit_columns(units: FromClause, levels: list[str]) -> list[ColumnElement[Any]]:
    """The columns of a unit that its rows need after the per-look grouping: its variant, the
    look that sees it in a second one, its levels."""
    unit = units.c
    return [unit.variant, unit.several_look, *(unit[level] for level in levels)]


def _carried(units: FromClause, levels: list[str]) -> list[ColumnElement[Any]]:
    """`_unit_columns` carried by a unit's rows through the per-look grouping: all of them,
    unless read back from a table of units after it (none)."""
    return [] if POSITION in units.c else _unit_columns(units, levels)


def _row_features(per_look: Subquery, found: UnitFeatures, levels: list[str]) -> Subquery:
    """Per unit and look: each feature now (`now_`) and at the unit's previous row (`before_`,
    the accumulated value minus this row's change), and whether the unit counted at each
    (`ACTIVE`, `ACTIVE_BEFORE`), computed once per row for every metric side that reads them
    (each side computed them again before)."""
    # A unit counts (is *active*) from its first look until the look that sees it in a second
    # variant, where it has a row; its previous row was active unless this row is after that
    # look. (At a unit's first row the previous values are all 0, whatever the flag says.) The
    # unit counts come from `_counts`; these rows add none.
    row = per_look.c
    several = row.several_look.is_not(None)
    active = case((and_(several, row[LOOK] >= row.several_look), 0.0), else_=1.0)
    active_before = case((and_(several, row[LOOK] > row.several_look), 0.0), else_=1.0)
    features = [
        column
        for label in (found.labels[feature] for feature in found.features)
        for column in (
            func.coalesce(row[f"c_{label}"], 0.0).label(f"now_{label}"),
            func.coalesce(row[f"c_{label}"] - row[f"g_{label}"], 0.0).label(f"before_{label}"),
        )
    ]
    group_columns = [row[name] for name in (*GROUP_COLUMNS, *levels)]
    flags = [active.label(ACTIVE), active_before.label(ACTIVE_BEFORE)]
    selected = select(*group_columns, row[LOOK], *flags, *features)
    return once_per_row(selected).subquery("row_features")


def _row_values(
    features: Subquery, metrics: Sequence[MetricDefinition], found: UnitFeatures, levels: list[str]
) -> Subquery:
    """Per unit and look: each metric's sides now and at the unit's previous row, weighted by
    whether the unit counted then (`m{index}_{side}`, `backfill_changes.metric_values`),
    computed once per row."""
    row = features.c
    labels = found.labels
    weighted = (
        (reader(row, labels, "now_"), row[ACTIVE]),
        (reader(row, labels, "before_"), row[ACTIVE_BEFORE]),
    )
    values = [
        value.label(f"m{index}_{side}")
        for index, metric in enumerate(metrics)
        for side, value in metric_values(
            metric, weighted, metric.key in found.with_covariate
        ).items()
    ]
    group_columns = [row[name] for name in (*GROUP_COLUMNS, *levels)]
    return once_per_row(select(*group_columns, row[LOOK], *values)).subquery("row_values")


def _changes(
    values: Subquery, metrics: Sequence[MetricDefinition], found: UnitFeatures, levels: list[str]
) -> tuple[Select[Any], dict[str, dict[str, str]]]:
    """Per group and look: the change of every metric's sums (each unit's now minus before)."""
    row = values.c
    group_columns = [row[name] for name in (*GROUP_COLUMNS, *levels)]
    outputs: list[ColumnElement[Any]] = [
        *group_columns,
        row[LOOK],
        literal(0).label(UNITS),
        literal(0).label(SEVERAL),
    ]
    columns: dict[str, dict[str, str]] = {}
    for index, metric in enumerate(metrics):
        covariate = metric.key in found.with_covariate
        sides = {side: row[f"m{index}_{side}"] for side in sides_read(metric, covariate)}
        changes = metric_changes(metric, sides, covariate)
        equal = {n: same for n, same in equal_sums(metric, covariate).items() if same in changes}
        columns[metric.key] = {name: f"m{index}_{equal.get(name, name)}" for name in changes}
        outputs += [
            func.sum(change).label(f"m{index}_{name}")
            for name, change in changes.items()
            if name not in equal
        ]
    return select(*outputs).group_by(*group_columns, row[LOOK]), columns


def _entering(units: FromClause, levels: list[str]) -> Subquery:
    """Units entering each variant at each look: +1 at the first, -1 (and +1 several) later."""
    unit = units.c
    level_columns = [unit[level] for level in levels]
    return union_all(
        select(
            unit.variant,
            *level_columns,
            unit.first_look.label(LOOK),
            literal(1).label(UNITS),
            literal(0).label(SEVERAL),
        ),
        select(
            unit.variant,
            *level_columns,
            unit.several_look.label(LOOK),
            literal(-1).label(UNITS),
            literal(1).label(SEVERAL),
        ).where(unit.several_look.is_not(None)),
    ).subquery("entering")


def _counts(entering: Subquery, sum_labels: list[str], levels: list[str]) -> Select[Any]:
    """Per group and look: units entering it and several variants (NULL for the sums' columns)."""
    counted = [*(entering.c[name] for name in (*GROUP_COLUMNS, *levels)), entering.c[LOOK]]
    return select(
        *counted,
        func.sum(entering.c[UNITS]).label(UNITS),
        func.sum(entering.c[SEVERAL]).label(SEVERAL),
        *(null().label(label) for label in sum_labels),
    ).group_by(*counted)
