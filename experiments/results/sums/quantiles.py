"""A quantile metric's per-variant summaries (`stats.quantiles.QuantileSums`), computed in SQL
beside the look's main aggregation, on SQLite and PostgreSQL alike.

The values are those of the metric's numerator event (its `value`; events without one are left
out), attributed as every other metric's (docs/results.md): sent by an exposed unit of one
variant, at or after its first exposure, within the metric's window, not after the end, with a
kind of key the metric counts. Four small grouped queries, each needing the previous one's
answer, and no per-unit row leaves the database:
1. per variant: exposed units, values N, units with a value, sum N_i^2 (N_i: a unit's values);
2. the value at the quantile's rank, ceil(level N), by ROW_NUMBER() over the values in order;
3. per variant, with S_i a unit's values at or below that quantile: sum S_i, S_i^2, S_i N_i;
4. the values at the whole ranks around the two DKY positions (`stats.quantiles.dky_ranks`)
   those sums give, between which the interval's ends are interpolated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Float, and_, case, cast, func, literal, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import ColumnElement, Subquery

from experiments.models.metric import MetricDefinition
from experiments.results.sums.unit_columns import (
    CONVERSIONS,
    EXPOSURES,
    EventIds,
    exposed_units,
    unit_features,
)
from stats.quantiles import (
    IndicatorSums,
    QuantileSums,
    at_position,
    dky_positions,
    dky_ranks,
    quantile_rank,
)

Ranks = Mapping[str, Sequence[int]]


def quantile_sums(
    connection: Connection,
    experiment: str,
    variants: Sequence[str],
    metric: MetricDefinition,
    end: datetime,
    ceiling: EventIds | None = None,
) -> dict[str, QuantileSums]:
    """Each variant's `QuantileSums` of the quantile metric `metric` at `end` (with `ceiling`,
    of the events up to its ids, as the look's other sums)."""
    level = metric.quantile
    if level is None:
        raise ValueError(f"metric '{metric.key}' has no quantile level")
    values = _unit_values(experiment, metric, end, ceiling)
    counts = _counts(connection, values)
    empty = IndicatorSums(0, 0, 0.0, 0.0, 0.0, 0.0)
    units = {key: counts.get(key, (0, empty))[0] for key in variants}
    sizes = {key: counts[key][1] for key in variants if key in counts and counts[key][1].values}
    at_rank = _order_statistics(
        connection, values, {key: [quantile_rank(level, s.values)] for key, s in sizes.items()}
    )
    quantiles = {key: at_rank[key, quantile_rank(level, s.values)] for key, s in sizes.items()}
    indicators = _indicator_sums(connection, values, quantiles, sizes)
    ranks = {key: dky_ranks(level, indicator) for key, indicator in indicators.items()}
    bounds = _order_statistics(connection, values, ranks)
    ends = {key: dky_positions(level, indicator) for key, indicator in indicators.items()}
    summaries: dict[str, QuantileSums] = {}
    for key in variants:
        if key not in sizes:
            summaries[key] = QuantileSums(level, units[key], None, None, None, empty)
            continue
        low, high = (at_position(end, partial(_value_at, bounds, key)) for end in ends[key])
        summaries[key] = QuantileSums(level, units[key], quantiles[key], low, high, indicators[key])
    return summaries


def _value_at(bounds: Mapping[tuple[str, int], float], key: str, rank: int) -> float:
    return bounds[key, rank]


def _unit_values(
    experiment: str, metric: MetricDefinition, end: datetime, ceiling: EventIds | None
) -> Subquery:
    """One row per exposed unit of a single variant and each value it sent (a NULL value for
    a unit without any): variant, unit_id, value."""
    found = unit_features([metric], cuped=False)
    exposures, conversions = EXPOSURES.c, CONVERSIONS.c
    variant_columns = [
        func.min(exposures.variant).label("variant"),
        func.max(exposures.variant).label("last_variant"),
    ]
    units = exposed_units(
        experiment, end, found, variant_columns, "quantile_units", ceiling=ceiling
    )
    unit = units.c
    conditions: list[ColumnElement[Any]] = [
        conversions.unit_id == unit.unit_id,
        conversions.name == metric.numerator_event,
        conversions.value.is_not(None),
        conversions.timestamp >= unit.first_at,
        conversions.timestamp <= end,
    ]
    if ceiling is not None:
        conditions.append(conversions.id <= ceiling.conversions)
    if metric.sources is not None:
        conditions.append(conversions.source.in_(sorted(metric.sources)))
    if metric.window_hours is not None:
        conditions.append(conversions.timestamp < unit.window_end_0)
    return (
        select(unit.variant, unit.unit_id, cast(conversions.value, Float).label("value"))
        .select_from(units.outerjoin(CONVERSIONS, and_(*conditions)))
        .where(unit.variant == unit.last_variant)
        .subquery("quantile_values")
    )


def _per_unit(values: Subquery, *extra: ColumnElement[Any]) -> Subquery:
    """Per unit: its variant, its count of values N_i, and the `extra` per-unit sums."""
    return (
        select(
            values.c.variant,
            func.count(values.c.value).label("values"),
            *extra,
        )
        .group_by(values.c.variant, values.c.unit_id)
        .subquery("quantile_per_unit")
    )


def _counts(connection: Connection, values: Subquery) -> dict[str, tuple[int, IndicatorSums]]:
    """Per variant: exposed units, and the unit sums that do not depend on the quantile."""
    unit = _per_unit(values).c
    query = select(
        unit.variant,
        func.count().label("units"),
        func.sum(unit["values"]).label("values"),
        func.sum(case((unit["values"] > 0, 1), else_=0)).label("clusters"),
        func.sum(cast(unit["values"] * unit["values"], Float)).label("value_squares"),
    ).group_by(unit.variant)
    return {
        row.variant: (
            int(row.units),
            IndicatorSums(
                clusters=int(row.clusters or 0),
                values=int(row._mapping["values"] or 0),
                below=0.0,
                below_squares=0.0,
                cross=0.0,
                value_squares=float(row.value_squares or 0.0),
            ),
        )
        for row in connection.execute(query)
    }


def _order_statistics(
    connection: Connection, values: Subquery, ranks: Ranks
) -> dict[tuple[str, int], float]:
    """The value at each 1-based rank of each variant's values in ascending order."""
    wanted = [(key, rank) for key, found in ranks.items() for rank in found]
    if not wanted:
        return {}
    position = func.row_number().over(partition_by=values.c.variant, order_by=values.c.value)
    ranked = (
        select(values.c.variant, values.c.value, position.label("position"))
        .where(values.c.value.is_not(None))
        .subquery("quantile_ranked")
    )
    query = select(ranked.c.variant, ranked.c.position, ranked.c.value).where(
        or_(*(and_(ranked.c.variant == key, ranked.c.position == rank) for key, rank in wanted))
    )
    return {(row.variant, int(row.position)): float(row.value) for row in connection.execute(query)}


def _indicator_sums(
    connection: Connection,
    values: Subquery,
    quantiles: Mapping[str, float],
    sizes: Mapping[str, IndicatorSums],
) -> dict[str, IndicatorSums]:
    """`sizes` completed with each variant's sums of S_i, S_i^2 and S_i N_i at its quantile."""
    if not quantiles:
        return {}
    at_quantile = case(
        *((values.c.variant == key, literal(quantile)) for key, quantile in quantiles.items()),
        else_=None,
    )
    below = func.sum(case((values.c.value <= at_quantile, 1), else_=0)).label("below")
    unit = _per_unit(values, below).c
    query = (
        select(
            unit.variant,
            func.sum(cast(unit.below, Float)).label("below"),
            func.sum(cast(unit.below * unit.below, Float)).label("below_squares"),
            func.sum(cast(unit.below * unit["values"], Float)).label("cross"),
        )
        .where(unit.variant.in_(sorted(quantiles)))
        .group_by(unit.variant)
    )
    return {
        row.variant: sizes[row.variant]._replace(
            below=float(row.below), below_squares=float(row.below_squares), cross=float(row.cross)
        )
        for row in connection.execute(query)
    }


def quantiles_json(quantiles: Mapping[str, Mapping[str, QuantileSums]]) -> dict[str, Any]:
    """The stored form of a look's quantile summaries (docs/results.md): `{"quantiles": {metric:
    {variant: {level, units, quantile, lower, upper, clusters, values, below, below_squares,
    cross, value_squares}}}}`, nothing without a quantile metric (older looks keep their form)."""
    if not quantiles:
        return {}
    return {
        "quantiles": {
            key: {
                variant: {
                    **{name: value for name, value in arm._asdict().items() if name != "indicator"},
                    **arm.indicator._asdict(),
                }
                for variant, arm in arms.items()
            }
            for key, arms in quantiles.items()
        }
    }
