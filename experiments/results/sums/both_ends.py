"""A set of units' sums at two ends at once: the previous look's and this one's.

An incremental look (`incremental`) needs the touched units' contribution at the previous look's
end and ceiling (what the stored sums hold of them) and at this look's. Every event counted at
the earlier end is counted at the later one too (its end and ceiling are not before the
earlier's), so one reading of a unit's events gives both: its exposures are grouped once, with
the earlier end's first exposure, variants, bounds and attributes computed over the exposures up
to the earlier end and ceiling (`earlier_exposure_columns`); its conversions are joined once,
and each feature is summed twice, the earlier copy over the events up to the earlier end and
ceiling, from the earlier first exposure (`earlier_feature_conditions`). The units are then
grouped by their groups at both ends, each end's sums beside the other's, and those rows
unpivoted (`unpivoted`) into one row per end (`LOOK_END` 0 the earlier, 1 this look's) and
group (`sums_query`). Half the index searches and joined rows of aggregating the two ends
apart (docs/benchmarks.md, "An incremental look reads its units once").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, case, func, literal, null, select, true, union_all
from sqlalchemy.sql.expression import ColumnElement, FromClause, Label, Select

from experiments.results.sums.sql_functions import first_attributes
from experiments.results.sums.unit_columns import (
    ATTRIBUTES,
    EXPOSURES,
    MULTI_VARIANT,
    EventIds,
    Period,
    UnitFeatures,
    unit_bounds,
)

EARLIER = "earlier_"
"""The prefix of a column's earlier-end copy (`earlier_first_at`, `earlier_f3`, ...)."""

LOOK_END = "look_end"
"""The label of the end a row of `unpivoted` is at: 0 the earlier, 1 this look's."""


@dataclass(frozen=True, slots=True)
class Cutoff:
    """Where a look stops reading events: its end (event time) and ceiling (ingestion ids)."""

    end: datetime
    ceiling: EventIds

    def covers(self, other: Cutoff) -> bool:
        """Whether every event `other` counts, this counts too."""
        return (
            self.end >= other.end
            and self.ceiling.exposures >= other.ceiling.exposures
            and self.ceiling.conversions >= other.ceiling.conversions
        )


def earlier_exposure_columns(
    found: UnitFeatures, earlier: Cutoff, dimensions: Sequence[str]
) -> list[Label[Any]]:
    """Aggregates over a unit's exposures (read up to the later end) that give its first
    exposure (`earlier_first_at`, NULL when it had none), variant, variant count, window bounds
    and, with `dimensions`, attributes as they were at `earlier`."""
    exposures = EXPOSURES.c
    # A FILTER, not a CASE in each aggregate: about a tenth of the units' statement on SQLite.
    then = and_(exposures.id <= earlier.ceiling.exposures, exposures.timestamp <= earlier.end)
    first_at = func.min(exposures.timestamp).filter(then)
    lowest = func.min(exposures.variant).filter(then)
    highest = func.max(exposures.variant).filter(then)
    _, bounds = unit_bounds(first_at, found.features, bool(found.with_covariate))
    attributes = first_attributes(exposures.timestamp, exposures.attributes, then)
    return [
        first_at.label(f"{EARLIER}first_at"),
        lowest.label(f"{EARLIER}variant"),
        case((lowest == highest, 1), else_=2).label(f"{EARLIER}variant_count"),
        *(bound.element.label(f"{EARLIER}{bound.name}") for bound in bounds),
        *([attributes.label(f"{EARLIER}{ATTRIBUTES}")] if dimensions else []),
    ]


def earlier_feature_conditions(
    unit: Any, conversions: Any, earlier: Cutoff, period: Period
) -> list[ColumnElement[bool]]:
    """The conditions on a joined conversion for the earlier copy of a feature of `period`:
    what joining the unit at `earlier` alone would have required (`per_unit_values`), but for
    the lower bound of a post-period feature, which its own condition (from the earlier first
    exposure) sets. The integer comparisons first: both databases stop at the first that
    fails."""
    conditions = [
        unit[f"{EARLIER}variant_count"] == 1,
        conversions.id <= earlier.ceiling.conversions,
        conversions.timestamp <= earlier.end,
    ]
    if period == "pre":
        conditions.append(conversions.timestamp >= unit[f"{EARLIER}pre_start"])
    return conditions


def earlier_variant(unit_events: Any) -> ColumnElement[Any]:
    """A unit's group at the earlier end: its variant, MULTI_VARIANT for several, NULL when it
    had no exposure then."""
    return case(
        (unit_events[f"{EARLIER}first_at"].is_(None), null()),
        (unit_events[f"{EARLIER}variant_count"] > 1, literal(MULTI_VARIANT)),
        else_=unit_events[f"{EARLIER}variant"],
    )


def unpivoted(values: FromClause, columns: Sequence[str]) -> Select[Any]:
    """`values` (each of `columns` beside its `EARLIER` copy, `variant` among them) as two rows
    per row: `LOOK_END` 1 with the columns, and, where the earlier `variant` is not NULL (units
    exposed by then), `LOOK_END` 0 with their earlier copies, under the same labels."""
    ends = union_all(
        select(literal(0, Integer).label(LOOK_END)), select(literal(1, Integer).label(LOOK_END))
    ).subquery("look_ends")
    later = ends.c[LOOK_END] == 1

    def at_end(name: str) -> ColumnElement[Any]:
        return case((later, values.c[name]), else_=values.c[f"{EARLIER}{name}"])

    return (
        select(ends.c[LOOK_END], *(at_end(name).label(name) for name in columns))
        .select_from(values.join(ends, true()))
        .where(at_end("variant").is_not(None))
    )
