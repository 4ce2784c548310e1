"""The backfill's units (`backfill_query`): per exposed unit, its variant, the looks of its
start and of its second variant, its bounds and its levels.

`_first_variants` reads each unit's exposures once; `_units` puts its start and its second
variant into looks (`look_of`). On SQLite the caller writes these rows to a table
(`unit_tables.units_in_order`) before the backfill's query reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, case, func, literal, null, select
from sqlalchemy.sql.expression import CTE, ColumnElement, Subquery

from experiments.models.metric import MetricDefinition
from experiments.results.sums.sql_functions import once_per_row
from experiments.results.sums.unit_columns import (
    ATTRIBUTES,
    EVERY_UNIT,
    EXPOSURES,
    EventIds,
    UnitFeatures,
    UnitRange,
    exposed_units,
    unit_features,
)


def unit_looks(
    experiment: str,
    metrics: Sequence[MetricDefinition],
    ends: list[datetime],
    *,
    cuped: bool,
    dimensions: Sequence[str] = (),
    ceiling: EventIds | None = None,
    span: UnitRange = EVERY_UNIT,
) -> CTE:
    """Per exposed unit in `span` (`_units`): the units `build_query` reads. On SQLite the
    caller writes them to a table (`unit_tables.units_in_order`) and passes that."""
    found = unit_features(metrics, cuped)
    levels = [ATTRIBUTES] if dimensions else []  # carried per unit, then read per dimension
    first = _first_variants(experiment, ends[-1], found, dimensions, ceiling, span)
    return _units(first, ends, found, levels)


def _first_variants(
    experiment: str,
    end: datetime,
    found: UnitFeatures,
    dimensions: Sequence[str],
    ceiling: EventIds | None,
    span: UnitRange,
) -> Subquery:
    """Per exposed unit in `span`: its start, its first exposure's variant, and when it first
    saw another."""
    # For the few units seen in several variants (min <> max, as in `aggregate`), the variant of
    # the first exposure and the earliest exposure to another variant take two index searches.
    exposures = EXPOSURES.c
    variant_columns = [
        func.min(exposures.variant).label("low"),
        func.max(exposures.variant).label("high"),
    ]
    grouped = exposed_units(
        experiment, end, found, variant_columns, "grouped", dimensions, ceiling=ceiling, span=span
    )
    several = grouped.c.low != grouped.c.high
    earliest = EXPOSURES.alias("earliest")
    other = EXPOSURES.alias("other")
    # With a ceiling, the first and the other exposure are searched among those it counts.
    counted = (
        [] if ceiling is None else [table.c.id <= ceiling.exposures for table in (earliest, other)]
    )
    first_variant = (
        select(earliest.c.variant)
        .where(
            earliest.c.experiment == experiment,
            earliest.c.unit_id == grouped.c.unit_id,
            earliest.c.timestamp <= end,
            *counted[:1],
        )
        .order_by(earliest.c.timestamp, earliest.c.variant)
        .limit(1)
        .correlate(grouped)  # also where it is nested in `other_at` below
        .scalar_subquery()
    )
    other_at = (
        select(func.min(other.c.timestamp))
        .where(
            other.c.experiment == experiment,
            other.c.unit_id == grouped.c.unit_id,
            other.c.timestamp <= end,
            other.c.variant != first_variant,
            *counted[1:],
        )
        .correlate(grouped)
        .scalar_subquery()
    )
    # Computed once per unit: `_units` reads `several_at` in each branch of a binary search
    # over the looks, and merged into it, both databases searched the exposures again in each
    # (about 7 times per unit seen in several variants with 30 looks).
    pre_units = select(
        grouped.c.unit_id,
        grouped.c.first_at,
        case((several, first_variant), else_=grouped.c.low).label("variant"),
        case((several, other_at), else_=null()).label("several_at"),
        *(grouped.c[column.name] for column in found.bound_columns),
        *([grouped.c[ATTRIBUTES]] if dimensions else []),
    )
    return once_per_row(pre_units).subquery("pre_units")


def _units(
    first_variants: Subquery, ends: list[datetime], found: UnitFeatures, levels: list[str]
) -> CTE:
    """Per unit: its variant, the look of its start and of its second variant (or NULL)."""
    pre = first_variants.c
    last = len(ends) - 1
    return select(
        pre.unit_id,
        pre.first_at,
        pre.variant,
        # The looks are computed once per unit here rather than once per event below.
        look_of(pre.first_at, ends, 0, last).label("first_look"),
        case(
            (pre.several_at.is_(None), null()), else_=look_of(pre.several_at, ends, 0, last)
        ).label("several_look"),
        *(pre[column.name] for column in found.bound_columns),
        *(pre[level] for level in levels),
    ).cte("units")


def look_of(moment: Any, ends: list[datetime], low: int, high: int) -> ColumnElement[Any]:
    """Index of the first end at or after `moment` (a binary search of nested CASEs)."""
    if low == high:
        return literal(low, Integer)
    middle = (low + high) // 2
    return case(
        (moment <= ends[middle], look_of(moment, ends, low, middle)),
        else_=look_of(moment, ends, middle + 1, high),
    )
