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

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import CompoundSelect

from experiments.models.metric import MetricDefinition
from experiments.results.aggregation import Aggregates, VariantSums
from experiments.results.backfill_query import (
    COVARIATE,
    COVARIATE_POSITION,
    NUMERATOR,
    STATISTICS,
    UNITS,
    ZERO,
    build_query,
)


def daily_aggregates(
    connection: Connection,
    experiment: str,
    variants: Sequence[str],
    metrics: Sequence[MetricDefinition],
    ends: Sequence[datetime],
    *,
    cuped: bool = True,
) -> list[Aggregates]:
    """`aggregate(connection, experiment, variants, metrics, end)` for every end of `ends`
    (ascending), from one query."""
    if not ends or list(ends) != sorted(ends):
        raise ValueError("ends must be a non-empty ascending sequence")
    query, columns = build_query(experiment, metrics, list(ends), cuped=cuped)
    looks = len(ends)
    units = {variant: [0] * looks for variant in variants}
    several = [0] * looks
    totals = {
        metric.key: {variant: [[0.0] * STATISTICS for _ in range(looks)] for variant in variants}
        for metric in metrics
    }
    for row in _rows_without_jit(connection, query):
        variant, look = row[0], int(row[1])
        several[look] += int(row[3] or 0)
        if variant not in units:
            continue
        units[variant][look] += int(row[2] or 0)
        for metric in metrics:
            target = totals[metric.key][variant][look]
            sources = columns[metric.key]
            for position, index in enumerate(sources):
                if index == NUMERATOR:
                    index = sources[0]
                elif index == COVARIATE:
                    index = sources[COVARIATE_POSITION]
                elif index == UNITS:
                    index = 2
                if index != ZERO:
                    target[position] += float(row[index] or 0.0)
    return _accumulate(variants, metrics, units, several, totals)


def _rows_without_jit(connection: Connection, query: CompoundSelect[Any]) -> list[Sequence[Any]]:
    """Run the backfill query; on PostgreSQL with JIT compilation off for it.

    The per-unit subplans inflate the planner's cost estimate far above `jit_above_cost`, and
    compiling the query's ~400 expressions took 3 of its 5.3 s at 100,000 units (EXPLAIN
    ANALYZE, docs/benchmarks.md); the query runs in about 2 s without it.
    """
    if connection.dialect.name != "postgresql":
        return list(connection.execute(query))
    previous = connection.execute(text("SELECT current_setting('jit')")).scalar_one()
    connection.execute(text("SELECT set_config('jit', 'off', true)"))
    try:
        return list(connection.execute(query))
    finally:
        connection.execute(text("SELECT set_config('jit', :value, true)"), {"value": previous})


def _accumulate(
    variants: Sequence[str],
    metrics: Sequence[MetricDefinition],
    units: dict[str, list[int]],
    several: list[int],
    totals: dict[str, dict[str, list[list[float]]]],
) -> list[Aggregates]:
    """Running sums over looks of the per-look changes."""
    result = []
    running_units = dict.fromkeys(variants, 0)
    running_several = 0
    running = {m.key: {v: [0.0] * STATISTICS for v in variants} for m in metrics}
    for look, several_here in enumerate(several):
        running_several += several_here
        metric_sums: dict[str, dict[str, VariantSums]] = {m.key: {} for m in metrics}
        for variant in variants:
            running_units[variant] += units[variant][look]
            for metric in metrics:
                sums = running[metric.key][variant]
                for position, change in enumerate(totals[metric.key][variant][look]):
                    sums[position] += change
                metric_sums[metric.key][variant] = VariantSums.from_flat(
                    [running_units[variant], *sums]
                )
        result.append(Aggregates(dict(running_units), running_several, metric_sums))
    return result
