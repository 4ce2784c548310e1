"""Percentile caps: the cap each look computes (`percentile_caps`), and whether a day's caps
change anything, which decides whether a capped experiment's first look may backfill that day in
the one pass (`caps_change_nothing`).

A cap is the nearest-rank percentile of the per-unit numerator (uncapped) over the units of one
variant with a non-zero value, up to the look's end; it is computed in the database with window
functions (SQLite and PostgreSQL alike), so no unit-level value reaches Python. It moves with
each look's units, so the backfill's per-unit changes cannot apply it. But on a day whose caps
are at or above every value they cap (each unit's numerator after its exposure, and its CUPED
pre-period numerator, which the cap also caps), capping changes nothing that day: the backfill's
uncapped sums are then that day's sums. Below 1,000 units with a value, a 99.9th percentile is
the largest value, so a small shop's days are all of that kind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import FromClause

from experiments.models.metric import MetricDefinition
from experiments.results.sums.per_unit_values import first_exposures, unit_values
from experiments.results.sums.sql_functions import look_rows
from experiments.results.sums.unit_columns import (
    MULTI_VARIANT,
    EventIds,
)
from experiments.results.sums.unit_tables import units_in_order

Caps = dict[str, float | None]
"""Per capped metric key, its cap (None while no unit has a value)."""


def percentile_caps(
    connection: Connection,
    experiment: str,
    metrics: Sequence[MetricDefinition],
    end: datetime,
    percentiles: Mapping[str, float],
    ceiling: EventIds | None = None,
) -> Caps:
    """The cap of each metric in `percentiles`: the nearest-rank percentile of the per-unit
    numerator (uncapped) over the experiment's units with a non-zero value, all variants
    together, up to `end`; None when no unit has a value yet. One query: the units' values are
    computed once for every capped metric."""
    return _caps(connection, experiment, metrics, end, percentiles, ceiling, peaks=False)[0]


def caps_and_peaks(
    connection: Connection,
    experiment: str,
    metrics: Sequence[MetricDefinition],
    end: datetime,
    percentiles: Mapping[str, float],
    ceiling: EventIds | None = None,
) -> tuple[Caps, Caps]:
    """`percentile_caps`, and from the same query, per capped metric, the largest value the cap
    caps over the units of one variant: their numerators after exposure (zero included) and
    their CUPED pre-period numerators (None without units)."""
    return _caps(connection, experiment, metrics, end, percentiles, ceiling, peaks=True)


def _caps(
    connection: Connection,
    experiment: str,
    metrics: Sequence[MetricDefinition],
    end: datetime,
    percentiles: Mapping[str, float],
    ceiling: EventIds | None,
    *,
    peaks: bool,
) -> tuple[Caps, Caps]:
    chosen = [metric for metric in metrics if metric.key in percentiles]
    if not chosen:
        return {}, {}
    uncapped = [metric.model_copy(update={"cap": None}) for metric in chosen]
    exposed = first_exposures(experiment, uncapped, end, cuped=peaks, ceiling=ceiling)
    with units_in_order(connection, exposed) as table:
        per_unit = unit_values(
            uncapped,
            end,
            cuped=peaks,
            dialect=connection.dialect.name,
            ceiling=ceiling,
            exposed=table,
        )
        # A CTE read more than once (each metric's ranking, the largest values) is computed
        # once by both databases; read once, it is merged into the query as a subquery.
        units = per_unit.element.cte("capped_units") if peaks or len(chosen) > 1 else per_unit
        single = units.c.variant != MULTI_VARIANT
        columns = []
        for index, metric in enumerate(chosen):
            value, covariate = units.c[f"m{index}_num"], units.c[f"m{index}_cov"]
            percentile = percentiles[metric.key]
            columns.append(_percentile_of(units, value.name, percentile, f"cap{index}"))
            for side, column in (("peak", value), ("pre", covariate)) if peaks else ():
                largest = select(func.max(column)).where(single).scalar_subquery()
                columns.append(largest.label(f"{side}{index}"))
        found = look_rows(connection, select(*columns))[0]
    caps = {metric.key: _number(found[f"cap{index}"]) for index, metric in enumerate(chosen)}
    if not peaks:
        return caps, {}
    largest_values = {
        metric.key: _largest(_number(found[f"peak{index}"]), _number(found[f"pre{index}"]))
        for index, metric in enumerate(chosen)
    }
    return caps, largest_values


def caps_change_nothing(caps: Caps, peaks: Caps) -> bool:
    """Whether every cap is at or above the largest value it caps (`caps_and_peaks`; a cap of
    None caps nothing): the day's capped sums are then its uncapped ones."""
    for key, cap in caps.items():
        peak = peaks.get(key)
        if cap is not None and peak is not None and peak > cap:
            return False
    return True


def _percentile_of(units: FromClause, column: str, percentile: float, label: str) -> Any:
    """A scalar subquery labelled `label`: the nearest-rank `percentile` of the non-zero values
    of `column` over the `units` in one variant; NULL without such a unit."""
    value = units.c[column]
    ranked = (
        select(
            value.label("value"),
            func.row_number().over(order_by=value).label("position"),
            func.count().over().label("total"),
        )
        .where(value != 0, units.c.variant != MULTI_VARIANT)
        .subquery(f"ranked_{label}")
    )
    share = percentile / 100.0
    cap = select(func.min(ranked.c.value)).where(ranked.c.position >= ranked.c.total * share)
    return cap.scalar_subquery().label(label)


def _number(found: Any) -> float | None:
    return None if found is None else float(found)


def _largest(post: float | None, pre: float | None) -> float | None:
    present = [value for value in (post, pre) if value is not None]
    return max(present) if present else None
