"""Daily cumulative sufficient statistics for many looks out of one pass over the events.

`aggregate` answers one end; a backfill of K looks would run it K times, reading every event K
times. Here each unit's events are bucketed once into looks (the first look end at or after the
event) and, per unit and look, a window function accumulates the unit's features. The metric
values are then the same expressions as in `aggregate` over those cumulative features, and each
unit-look row adds to its variant's sums only the *change* since the unit's previous row (the
sum of squares of a unit's cumulative revenue grows by the difference of squares on each look it
buys). Summed per variant and look and accumulated over looks in Python, this gives exactly the
sums `aggregate` would give at each end (docs/results.md, "Backfill").

Attribution is `aggregate`'s at every end: a unit's start is its first exposure, and a unit
exposed to a second variant leaves every metric (and joins the "several variants" count) from
the look that sees that second exposure on. All SQL is portable SQLAlchemy Core with window
functions (SQLite >= 3.25, PostgreSQL); the two dialect-specific expressions are
`sql_functions`'.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import CTE, CompoundSelect, FromClause, Select

from experiments.models.metric import MetricDefinition
from experiments.results.sums.backfill_query import LOOK, SEVERAL, UNITS, build_query
from experiments.results.sums.backfill_units import unit_looks
from experiments.results.sums.groups import (
    ZERO_SUMS,
    Aggregates,
    GroupKey,
    GroupSums,
    VariantSums,
)
from experiments.results.sums.levels import DIMENSION, LEVEL, RawKey, segment_aggregates
from experiments.results.sums.sql_functions import LOOK_SETTINGS
from experiments.results.sums.unit_columns import MULTI_VARIANT, EventIds, UnitRange
from experiments.results.sums.unit_parts import Labels, Row, in_parts

Changes = dict[str, float]
"""One metric's sums in one group, by sum name: their change at one look, or their running
total."""


def daily_aggregates(
    connection: Connection,
    experiment: str,
    variants: Sequence[str],
    metrics: Sequence[MetricDefinition],
    ends: Sequence[datetime],
    *,
    cuped: bool = True,
    dimensions: Sequence[str] = (),
    ceiling: EventIds | None = None,
) -> list[Aggregates]:
    """`aggregate(connection, experiment, variants, metrics, end, dimensions=dimensions,
    ceiling=ceiling)` for every end of `ends` (ascending), from one query."""
    if not ends or list(ends) != sorted(ends):
        raise ValueError("ends must be a non-empty ascending sequence")
    looks = _BackfillLooks(experiment, list(metrics), list(ends), cuped, list(dimensions), ceiling)
    # Each part's rows are changes per group and look, added up below as they come.
    found, labels = in_parts(connection, experiment, ceiling, looks)
    if dimensions:
        return _segment_looks(found, labels, variants, dimensions, len(ends))
    groups = [GroupKey(variant=variant) for variant in variants]
    units = {group: [0] * len(ends) for group in groups}
    several = [0] * len(ends)
    changes: dict[GroupKey, list[dict[str, Changes]]] = {
        group: [{metric: dict.fromkeys(labels[metric], 0.0) for metric in labels} for _ in ends]
        for group in groups
    }
    for row in found:
        group, look = GroupKey.of_row(row), int(row[LOOK])
        several[look] += int(row[SEVERAL] or 0)
        if group not in units:
            continue
        units[group][look] += int(row[UNITS] or 0)
        for metric, targets in changes[group][look].items():
            for name, label in labels[metric].items():
                targets[name] += float(row[label] or 0.0)
    return _accumulate(units, several, changes)


@dataclass(frozen=True, slots=True)
class _BackfillLooks:
    """The backfill's query over the units of a range (a `unit_parts.UnitQuery`)."""

    experiment: str
    metrics: list[MetricDefinition]
    ends: list[datetime]
    cuped: bool
    dimensions: list[str]
    ceiling: EventIds | None

    @property
    def settings(self) -> Mapping[str, str]:
        """Run with `LOOK_SETTINGS` on PostgreSQL (its window functions need their sorts)."""
        return LOOK_SETTINGS

    def exposed(self, span: UnitRange) -> CTE:
        """The units in `span` and their looks (`unit_looks`)."""
        return unit_looks(
            self.experiment,
            self.metrics,
            self.ends,
            cuped=self.cuped,
            dimensions=self.dimensions,
            ceiling=self.ceiling,
            span=span,
        )

    def query(
        self,
        dialect: str,  # noqa: ARG002 - the same SQL on both databases
        units: FromClause,
    ) -> tuple[Select[Any] | CompoundSelect[Any], Labels]:
        """The backfill query's rows for `units` (`build_query`), and its labels."""
        return build_query(
            units,
            self.metrics,
            self.ends,
            cuped=self.cuped,
            dimensions=self.dimensions,
            ceiling=self.ceiling,
        )


def _segment_looks(
    rows: list[Row],
    labels: Labels,
    variants: Sequence[str],
    dimensions: Sequence[str],
    looks: int,
) -> list[Aggregates]:
    """Each look's aggregates from the per-(dimension, level, variant, look) changes: the
    changes accumulated per group over the looks, then named and capped per look as a single
    look's are (`levels.segment_aggregates`)."""
    units: dict[RawKey, list[int]] = {}
    changes: dict[RawKey, list[dict[str, Changes]]] = {}

    def group(key: RawKey) -> RawKey:
        if key not in units:
            units[key] = [0] * looks
            changes[key] = [
                {metric: dict.fromkeys(labels[metric], 0.0) for metric in labels}
                for _ in range(looks)
            ]
        return key

    for row in rows:
        dimension, level, look = int(row[DIMENSION]), row[LEVEL], int(row[LOOK])
        key = group((dimension, level, row["variant"]))
        units[key][look] += int(row[UNITS] or 0)
        # A unit seen in a second variant leaves its first (-1 unit) for the "several" count.
        units[group((dimension, level, MULTI_VARIANT))][look] += int(row[SEVERAL] or 0)
        for metric, targets in changes[key][look].items():
            for name, label in labels[metric].items():
                targets[name] += float(row[label] or 0.0)
    empty = GroupSums(units=0, metrics=dict.fromkeys(labels, ZERO_SUMS))
    running = {key: GroupSums(0, empty.metrics) for key in units}
    totals = {key: {m: dict.fromkeys(c, 0.0) for m, c in labels.items()} for key in units}
    result = []
    for look in range(looks):
        for key in running:
            count = running[key].units + units[key][look]
            for metric, sums in totals[key].items():
                for name, change in changes[key][look][metric].items():
                    sums[name] += change
            running[key] = GroupSums(
                units=count,
                metrics={
                    metric: VariantSums.from_fields({"n": count, **sums})
                    for metric, sums in totals[key].items()
                },
            )
        result.append(segment_aggregates(running, variants, dimensions, empty))
    return result


def _accumulate(
    units: dict[GroupKey, list[int]],
    several: list[int],
    changes: dict[GroupKey, list[dict[str, Changes]]],
) -> list[Aggregates]:
    """Running sums over looks of the per-look changes."""
    result = []
    running_units = dict.fromkeys(units, 0)
    running_several = 0
    running = {
        group: {m: dict.fromkeys(c, 0.0) for m, c in looks[0].items()}
        for group, looks in changes.items()
    }
    for look, several_here in enumerate(several):
        running_several += several_here
        groups: dict[GroupKey, GroupSums] = {}
        for group, sums in running.items():
            running_units[group] += units[group][look]
            for metric, totals in sums.items():
                for name, change in changes[group][look][metric].items():
                    totals[name] += change
            groups[group] = GroupSums(
                units=running_units[group],
                metrics={
                    metric: VariantSums.from_fields({"n": running_units[group], **totals})
                    for metric, totals in sums.items()
                },
            )
        result.append(Aggregates(groups, running_several))
    return result
