"""The query of a look's sums: its per-unit values (`per_unit_values.unit_values`) summed per
group into each metric's sufficient statistics, one labelled column per sum."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.sql.expression import ColumnElement, FromClause, Select

from experiments.models.metric import MetricDefinition
from experiments.results.sums.both_ends import LOOK_END, Cutoff
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
    `levels.by_dimension`. `exposed`: as `unit_values` reads it."""
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
    ends = [LOOK_END] if earlier is not None else []
    keys = [*ends, *GROUP_COLUMNS, *([PERIOD] if periods else [])]
    attributes = [per_unit.c[ATTRIBUTES]] if dimensions else []
    group_columns = [*(per_unit.c[name] for name in keys), *attributes]
    outputs: list[ColumnElement[Any]] = [*group_columns, func.count().label("units")]
    labels: Labels = {}
    for index, metric in enumerate(metrics):
        num = per_unit.c[f"m{index}_num"]
        den = per_unit.c[f"m{index}_den"]
        cov = per_unit.c[f"m{index}_cov"]
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
            pden = per_unit.c[f"m{index}_pden"]
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
        outputs += [sum_.label(f"m{index}_{name}") for name, sum_ in summed.items()]
    query = select(*outputs).group_by(*group_columns)
    if not dimensions:
        return query, labels
    columns = (label for metric_labels in labels.values() for label in metric_labels.values())
    summed_labels = ["units", *dict.fromkeys(columns)]
    combinations = query.subquery("combinations")
    return by_dimension(combinations, dimensions, keys, summed_labels), labels
