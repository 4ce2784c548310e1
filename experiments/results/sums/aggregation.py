"""Per-group sufficient statistics of an experiment's metrics, computed in one SQL query.

A group is what the sums are broken down by (`GroupKey`): the variant today.

Attribution (docs/results.md): a unit's first exposure fixes its variant and its start; units
exposed to more than one variant are left out (and counted); a conversion counts when it
happens at or after the unit's start, within the metric's window and not after `end`, and was
sent with a kind of key the metric counts (its `sources`; all when it names none).
Conversions of units never exposed never meet an exposure in the join and so are ignored.

The query has three levels, all grouped in the database (the first two per unit, built by
`per_unit_values.unit_values`):
1. `first_exposure`: one row per exposed unit (start, variant, one or several variants, and the
   unit's window bounds as timestamps);
2. `unit_events`: that row outer-joined to the unit's relevant conversions and grouped per
   unit, one column per (event, count|sum, window, period) the metrics need;
3. `unit_values`: per unit, each metric's capped numerator, denominator and CUPED covariate,
   summed per group into n, sums, sums of squares and cross sums, and the units whose
   denominator (ratio) or value (conversion, mean) is not zero. Every output column is
   labelled and read by its label.
A cap given as a percentile is first computed by a query over the same `unit_values`
(uncapped), see `percentile_caps`. Migration 0004's covering indexes let both tables be read in
unit order without table lookups.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import FromClause, Select, Subquery

from experiments.models.metric import MetricDefinition
from experiments.results.sums.both_ends import Cutoff
from experiments.results.sums.groups import (
    GROUP_COLUMNS,
    NO_PRE_PERIOD,
    SUM_FIELDS,
    ZERO_SUMS,
    Aggregates,
    GroupKey,
    GroupSums,
    VariantSums,
)
from experiments.results.sums.levels import (
    DIMENSION,
    LEVEL,
    RawKey,
    segment_aggregates,
)
from experiments.results.sums.per_unit_values import first_exposures
from experiments.results.sums.percentile_caps import percentile_caps
from experiments.results.sums.periods import fold_levels, whole_and_periods
from experiments.results.sums.sql_functions import SUMS_SETTINGS
from experiments.results.sums.sums_query import sums_query
from experiments.results.sums.unit_columns import (
    MULTI_VARIANT,
    PERIOD,
    EventIds,
    UnitRange,
    UnitSet,
)
from experiments.results.sums.unit_parts import Labels, Row, added_up, in_parts

__all__ = [
    "GROUP_COLUMNS",
    "NO_PRE_PERIOD",
    "SUM_FIELDS",
    "Aggregates",
    "GroupKey",
    "GroupSums",
    "VariantSums",
    "aggregate",
    "percentile_caps",
]


def aggregate(
    connection: Connection,
    experiment: str,
    variants: Sequence[str],
    metrics: Sequence[MetricDefinition],
    end: datetime,
    *,
    cuped: bool = True,
    cap_percentiles: Mapping[str, float] | None = None,
    dimensions: Sequence[str] = (),
    periods: Sequence[datetime] = (),
    ceiling: EventIds | None = None,
    caps: Mapping[str, float | None] | None = None,
) -> Aggregates:
    """Sufficient statistics of `metrics` per variant of `experiment`, counting events up to `end`.

    Variants without units get zero sums; exposures naming variants outside `variants` are
    ignored. With `cuped`, every metric also gets its pre-exposure covariate sums.
    `cap_percentiles` (metric key -> percentile, e.g. 99) caps those metrics' per-unit
    numerators at that percentile of the experiment's units (see `percentile_caps`). With
    `dimensions`, the same query also gives the sums of every level of each (`levels`); with
    `periods` (the starts of a bandit's update periods after the first), those of every
    period (`sums.periods`). With `ceiling`, only the events up to its ids count (a stored
    look's ingestion mark). `caps`, when given, are the percentile caps already computed at this
    end and ceiling (`percentile_caps`), and are not computed again.
    """
    if caps is None and cap_percentiles:
        caps = percentile_caps(connection, experiment, metrics, end, cap_percentiles, ceiling)
    caps = dict(caps or {})
    if caps:
        metrics = capped_metrics(metrics, caps)
    if periods:
        rows, labels = _sums_rows(
            connection, experiment, metrics, end, cuped, dimensions, periods, ceiling
        )
        empty = GroupSums(units=0, metrics=dict.fromkeys(labels, ZERO_SUMS))
        return _by_period(rows, labels, variants, dimensions, empty, caps)
    if dimensions:
        raw = level_sums(connection, experiment, metrics, end, cuped, dimensions, ceiling)
        return segment_aggregates(raw, variants, dimensions, empty_group(metrics), caps)
    found = variant_sums(connection, experiment, metrics, end, cuped, ceiling)
    return whole_aggregates(found, variants, metrics, caps)


def variant_sums(
    connection: Connection,
    experiment: str,
    metrics: Sequence[MetricDefinition],
    end: datetime,
    cuped: bool,
    ceiling: EventIds | None,
) -> dict[GroupKey, GroupSums]:
    """The sums per group of the whole as the query gives them (the units in several variants
    under `MULTI_VARIANT`, exposures to unknown variants under theirs). `metrics` carry their
    caps (`capped_metrics`)."""
    rows, labels = _sums_rows(connection, experiment, metrics, end, cuped, (), (), ceiling)
    return {GroupKey.of_row(row): row_sums(row, labels) for row in rows}


def level_sums(
    connection: Connection,
    experiment: str,
    metrics: Sequence[MetricDefinition],
    end: datetime,
    cuped: bool,
    dimensions: Sequence[str],
    ceiling: EventIds | None,
) -> dict[RawKey, GroupSums]:
    """`variant_sums` per (dimension, level, variant), as `levels.segment_aggregates` reads."""
    rows, labels = _sums_rows(connection, experiment, metrics, end, cuped, dimensions, (), ceiling)
    return {level_key(row): row_sums(row, labels) for row in rows}


def level_key(row: Row) -> RawKey:
    """The (dimension, level, variant) of a row of `by_dimension`."""
    return (int(row[DIMENSION]), row[LEVEL], row["variant"])


def at_both_ends(
    experiment: str,
    metrics: Sequence[MetricDefinition],
    dimensions: Sequence[str],
    units: UnitSet,
    earlier: Cutoff,
    later: Cutoff,
) -> LookSums:
    """The sums of `units` (with CUPED) at `earlier` and at `later`, read at once
    (`both_ends`): grouped as `variant_sums` or, with `dimensions`, `level_sums` groups them,
    and by `LOOK_END` too. Run by `unit_parts.run_part`, or compiled by its `compile_part`."""
    return LookSums(
        experiment,
        list(metrics),
        later.end,
        True,
        list(dimensions),
        [],
        later.ceiling,
        units,
        earlier,
    )


def whole_aggregates(
    found: Mapping[GroupKey, GroupSums],
    variants: Sequence[str],
    metrics: Sequence[MetricDefinition],
    caps: dict[str, float | None],
) -> Aggregates:
    """The aggregates of `variant_sums`' groups: every variant (zero sums without units), the
    units in several variants counted apart, unknown variants left out."""
    empty = empty_group(metrics)
    multi_variant_units = sum(
        group.units for key, group in found.items() if key.variant == MULTI_VARIANT
    )
    groups = {key: found.get(key, empty) for key in (GroupKey(variant=v) for v in variants)}
    return Aggregates(groups, multi_variant_units, caps)


def empty_group(metrics: Sequence[MetricDefinition]) -> GroupSums:
    """A group without units: zero sums for every metric."""
    return GroupSums(units=0, metrics={metric.key: ZERO_SUMS for metric in metrics})


def capped_metrics(
    metrics: Sequence[MetricDefinition], caps: Mapping[str, float | None]
) -> list[MetricDefinition]:
    """`metrics`, each capped at the smaller of its own cap and its percentile cap."""
    return [_with_cap(metric, caps.get(metric.key)) for metric in metrics]


def _by_period(
    rows: list[Row],
    labels: Labels,
    variants: Sequence[str],
    dimensions: Sequence[str],
    empty: GroupSums,
    caps: dict[str, float | None],
) -> Aggregates:
    """`aggregate`'s aggregates from a query grouped by period too: the whole and the
    segments summed over the periods, the periods kept."""
    several = sum(int(row["units"]) for row in rows if row["variant"] == MULTI_VARIANT)
    if dimensions:
        raw = {
            (int(row[DIMENSION]), row[LEVEL], row["variant"], int(row[PERIOD])): row_sums(
                row, labels
            )
            for row in rows
        }
        levels, per_period = fold_levels(raw)
        segmented = segment_aggregates(levels, variants, dimensions, empty, caps)
        _, periods = whole_and_periods(per_period, variants, empty)
        return replace(segmented, periods=periods)
    per_period = {
        (row["variant"], int(row[PERIOD])): row_sums(row, labels)
        for row in rows
        if row["variant"] != MULTI_VARIANT
    }
    whole, periods = whole_and_periods(per_period, variants, empty)
    return Aggregates(whole, several, caps, periods=periods)


def _sums_rows(
    connection: Connection,
    experiment: str,
    metrics: Sequence[MetricDefinition],
    end: datetime,
    cuped: bool,
    dimensions: Sequence[str],
    periods: Sequence[datetime],
    ceiling: EventIds | None,
) -> tuple[list[Row], Labels]:
    """The rows of `sums_query` over every unit and its labels, computed in parts of the units
    at once and added up (`unit_parts`)."""
    look = LookSums(
        experiment, list(metrics), end, cuped, list(dimensions), list(periods), ceiling, None
    )
    rows, labels = in_parts(connection, experiment, ceiling, look)
    # A sum equal to another reads its column (`equal_sums`): each column once.
    columns = (label for found in labels.values() for label in found.values())
    return added_up(rows, ["units", *dict.fromkeys(columns)]), labels


@dataclass(frozen=True, slots=True)
class LookSums:
    """What a look's sums read: `sums_query`'s arguments, a `unit_parts.UnitQuery`."""

    experiment: str
    metrics: list[MetricDefinition]
    end: datetime
    cuped: bool
    dimensions: list[str]
    periods: list[datetime]
    ceiling: EventIds | None
    units: UnitSet | None
    earlier: Cutoff | None = None

    def exposed(self, span: UnitRange) -> Subquery:
        """The exposed units in `span` (`first_exposures`)."""
        return first_exposures(
            self.experiment,
            self.metrics,
            self.end,
            cuped=self.cuped,
            dimensions=self.dimensions,
            periods=self.periods,
            ceiling=self.ceiling,
            units=self.units,
            span=span,
            earlier=self.earlier,
        )

    @property
    def settings(self) -> Mapping[str, str]:
        """Run with `SUMS_SETTINGS` on PostgreSQL."""
        return SUMS_SETTINGS

    def query(self, dialect: str, exposed: FromClause) -> tuple[Select[Any], Labels]:
        """The sums of the units in `exposed` (the rows of `exposed(...)`, or a table of them)."""
        return sums_query(
            self.metrics,
            self.end,
            self.cuped,
            dialect,
            self.dimensions,
            exposed=exposed,
            periods=self.periods,
            ceiling=self.ceiling,
            units=self.units,
            earlier=self.earlier,
        )


def row_sums(row: Row, labels: Labels) -> GroupSums:
    """One group's units and every metric's sums in one row."""
    units = int(row["units"])
    return GroupSums(
        units=units,
        metrics={metric: _group_sums(row, labels[metric], units) for metric in labels},
    )


def _group_sums(row: Row, labels: dict[str, str], units: int) -> VariantSums:
    """One metric's sums in one row (sum name -> the column's label); the sums the query leaves
    out follow from the others (`VariantSums.from_fields`)."""
    return VariantSums.from_fields(
        {"n": units} | {name: float(row[label] or 0.0) for name, label in labels.items()}
    )


def _with_cap(metric: MetricDefinition, percentile_cap: float | None) -> MetricDefinition:
    """The metric capped at the smaller of its own cap and its percentile cap."""
    if percentile_cap is None:
        return metric
    cap = percentile_cap if metric.cap is None else min(metric.cap, percentile_cap)
    return metric.model_copy(update={"cap": cap})
