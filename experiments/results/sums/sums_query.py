"""The query of a look's sums: its per-unit values (`per_unit_values.unit_values`) summed per
group into each metric's sufficient statistics, one labelled column per sum."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.sql.expression import ColumnElement, FromClause, Select, Subquery

from experiments.models.metric import MetricDefinition
from experiments.results.sums.both_ends import EARLIER, LOOK_END, Cutoff, unpivoted
from experiments.results.sums.groups import GROUP_COLUMNS
from experiments.results.sums.levels import by_dimension
from experiments.results.sums.per_unit_values import unit_values
from experiments.results.sums.unit_columns import (
    ATTRIBUTES,
    PERIOD,
    EventIds,
    UnitSet,
    equal_sums,
)
from experiments.results.sums.unit_parts import Labels


def sums_query(
    metrics: Sequence[MetricDefinition],
    end: datetime,
    cuped: bool,
    dialect: str,
    dimensions: Sequence[str],
    *,
    exposed: FromClause,
    periods: Sequence[datetime] = (),
    ceiling: EventIds | None = None,
    units: UnitSet | None = None,
    earlier: Cutoff | None = None,
) -> tuple[Select[Any], Labels]:
    """The query of every group's units and sums, and per metric key its sums' column labels
    (sum name -> label, `m{index}_{name}`; a sum equal to another by construction reads the
    other's column, `unit_columns.equal_sums`). With `dimensions` the units are grouped by variant
    and first-exposure attributes, then summed per (dimension, level, variant) by
    `levels.by_dimension`. `exposed`: as `unit_values` reads it. With `earlier`, the sums at
    both ends, told apart by `LOOK_END` (`_at_both_ends`)."""
    per_unit = unit_values(
        metrics,
        end,
        cuped=cuped,
        dialect=dialect,
        dimensions=dimensions,
        periods=periods,
        ceiling=ceiling,
        units=units,
        exposed=exposed,
        earlier=earlier,
    )
    if earlier is not None:
        return _at_both_ends(per_unit, metrics, cuped, dimensions)
    keys = [*GROUP_COLUMNS, *([PERIOD] if periods else [])]
    attributes = [per_unit.c[ATTRIBUTES]] if dimensions else []
    group_columns = [*(per_unit.c[name] for name in keys), *attributes]
    sums, labels = _metric_sums(per_unit, metrics, cuped)
    query = select(*group_columns, func.count().label("units"), *sums).group_by(*group_columns)
    if not dimensions:
        return query, labels
    combinations = query.subquery("combinations")
    return by_dimension(combinations, dimensions, keys, _summed(labels)), labels


def _at_both_ends(
    per_unit: Subquery,
    metrics: Sequence[MetricDefinition],
    cuped: bool,
    dimensions: Sequence[str],
) -> tuple[Select[Any], Labels]:
    """The sums of `per_unit`'s rows at both ends (`unit_values` with `earlier`). The units
    are grouped once by their groups at both ends (most are in the same group at both), each
    end's sums beside the other's; those few rows are then unpivoted (`both_ends.unpivoted`) and
    summed per `LOOK_END` and group. Unpivoted before grouping, the units would be sorted twice
    as many rows on SQLite."""
    attributes = [ATTRIBUTES] if dimensions else []
    at_one_end = ["variant", *attributes]
    group_columns = [per_unit.c[name] for name in (*at_one_end, *_earlier(at_one_end))]
    later, labels = _metric_sums(per_unit, metrics, cuped)
    before, _ = _metric_sums(per_unit, metrics, cuped, EARLIER)
    exposed_then = case((per_unit.c[f"{EARLIER}variant"].is_not(None), 1), else_=0)
    counts = [func.count().label("units"), func.sum(exposed_then).label(f"{EARLIER}units")]
    grouped = (
        select(*group_columns, *counts, *later, *before)
        .group_by(*group_columns)
        .subquery("combinations_at_both_ends")
    )
    summed = _summed(labels)
    combinations = unpivoted(grouped, [*at_one_end, *summed]).subquery("combinations")
    keys = [LOOK_END, *GROUP_COLUMNS]
    if dimensions:
        return by_dimension(combinations, dimensions, keys, summed), labels
    key_columns = [combinations.c[key] for key in keys]
    sums = (func.sum(combinations.c[label]).label(label) for label in summed)
    return select(*key_columns, *sums).group_by(*key_columns), labels


def _metric_sums(
    per_unit: Subquery, metrics: Sequence[MetricDefinition], cuped: bool, prefix: str = ""
) -> tuple[list[ColumnElement[Any]], Labels]:
    """Every metric's sums over the per-unit values whose labels start with `prefix`, labelled
    `{prefix}m{index}_{name}` (a sum equal to another by construction only once), and the
    labels without the prefix."""
    outputs: list[ColumnElement[Any]] = []
    labels: Labels = {}
    for index, metric in enumerate(metrics):
        num = per_unit.c[f"{prefix}m{index}_num"]
        den = per_unit.c[f"{prefix}m{index}_den"]
        cov = per_unit.c[f"{prefix}m{index}_cov"]
        ratio = metric.kind == "ratio"
        wanted: dict[str, ColumnElement[Any]] = {
            "numerator_sum": func.sum(num),
            "numerator_sum_squares": func.sum(num * num),
            "covariate_sum": func.sum(cov),
            "covariate_sum_squares": func.sum(cov * cov),
            "covariate_cross_sum": func.sum(num * cov),
            "nonzero_units": func.sum(case(((den if ratio else num) != 0, 1), else_=0)),
        }
        if ratio:
            # Only a ratio's denominator varies per unit; for the others it is 1.
            pden = per_unit.c[f"{prefix}m{index}_pden"]
            wanted |= {
                "denominator_sum": func.sum(den),
                "denominator_sum_squares": func.sum(den * den),
                "cross_sum": func.sum(num * den),
                "covariate_denominator_cross_sum": func.sum(den * cov),
                # The pre-period denominator, CUPED's second covariate for a ratio.
                "pre_denominator_sum": func.sum(pden),
                "pre_denominator_sum_squares": func.sum(pden * pden),
                "pre_denominator_cross_sum": func.sum(num * pden),
                "pre_denominator_denominator_cross_sum": func.sum(den * pden),
                "covariate_pre_denominator_cross_sum": func.sum(cov * pden),
            }
        equal = {name: same for name, same in equal_sums(metric, cuped).items() if same in wanted}
        summed = {name: sum_ for name, sum_ in wanted.items() if name not in equal}
        labels[metric.key] = {name: f"m{index}_{equal.get(name, name)}" for name in wanted}
        outputs += [sum_.label(f"{prefix}m{index}_{name}") for name, sum_ in summed.items()]
    return outputs, labels


def _summed(labels: Labels) -> list[str]:
    """The labels of a query's summed columns: its units, then each sum's column once."""
    columns = (label for metric_labels in labels.values() for label in metric_labels.values())
    return ["units", *dict.fromkeys(columns)]


def _earlier(names: Sequence[str]) -> list[str]:
    return [f"{EARLIER}{name}" for name in names]
