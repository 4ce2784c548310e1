"""The backfill's per-row expressions: a unit's metric sides at one look and at its previous row,
and the change of each of the metric's sums between the two (`backfill_query._row_values` and
`_changes` compute them once per row and sum them per group and look)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, case, cast, literal
from sqlalchemy.sql.expression import ColumnElement

from experiments.models.metric import Aggregation, MetricDefinition
from experiments.results.sums.unit_columns import Feature, metric_sides


def reader(row: Any, labels: dict[Feature, str], prefix: str) -> Any:
    """A feature reader (see `metric_sides`) of a unit's values at one row: its features'
    columns named `prefix` + label (`backfill_query._row_features`: now, or at the unit's
    previous row)."""

    def feature(key: Feature, aggregation: Aggregation) -> Any:
        total = row[f"{prefix}{labels[key]}"]
        if aggregation == "any":
            return case((total > 0, 1.0), else_=0.0)
        return cast(total, Float)

    return feature


def sides_read(metric: MetricDefinition, covariate: bool) -> list[str]:
    """The per-row values `metric_changes` reads of `metric`: the numerator `x`, for a ratio the
    denominator `y`, with a covariate its pre-period value `z` and for a ratio kind its
    pre-period denominator `w`; each now and before (`p`)."""
    sides = ["x"]
    if metric.denominator_event is not None:
        sides.append("y")
    if covariate:
        sides.append("z")
        if metric.kind == "ratio":
            sides += ["y", "w"]
    if metric.kind == "ratio":
        sides.append("y")  # `nonzero_units` counts the denominator
    unique = list(dict.fromkeys(sides))
    return [*unique, *(f"{side}p" for side in unique)]


def metric_values(
    metric: MetricDefinition, weighted: tuple[tuple[Any, Any], ...], covariate: bool
) -> dict[str, ColumnElement[Any]]:
    """The per-row values of `metric` named as in `sides_read`: its sides weighted by whether the
    unit counts, now and at its previous row."""
    found: dict[str, ColumnElement[Any]] = {}
    for (read, weight), suffix in zip(weighted, ("", "p"), strict=True):
        numerator, denominator = metric_sides(metric, read, "post")
        pre: Any = literal(0.0)
        pre_denominator: Any = literal(0.0)
        if covariate:
            pre, pre_denominator = metric_sides(metric, read, "pre")
        every = {"x": numerator, "y": denominator, "z": pre, "w": pre_denominator}
        found |= {f"{side}{suffix}": weight * value for side, value in every.items()}
    return {side: found[side] for side in sides_read(metric, covariate)}


def metric_changes(
    metric: MetricDefinition, sides: dict[str, Any], covariate: bool
) -> dict[str, ColumnElement[Any]]:
    """The change at this row of each of the metric's sums that a row's values give.

    The others follow from the accumulated sums (`VariantSums.from_fields`): a denominator of 1
    is the unit count, and a metric without a covariate has covariate sums of 0. Of these,
    `backfill_query._changes` sums only those `unit_columns.equal_sums` does not name.
    """
    zero: Any = literal(0.0)
    x, y, z, w = (sides.get(name, zero) for name in ("x", "y", "z", "w"))
    xp, yp, zp, wp = (sides.get(f"{name}p", zero) for name in ("x", "y", "z", "w"))
    wanted: dict[str, ColumnElement[Any]] = {
        "numerator_sum": x - xp,
        "numerator_sum_squares": x * x - xp * xp,
    }
    ratio = metric.denominator_event is not None
    if ratio:
        wanted["denominator_sum"] = y - yp
        wanted["denominator_sum_squares"] = y * y - yp * yp
        wanted["cross_sum"] = x * y - xp * yp
    if covariate:
        wanted["covariate_sum"] = z - zp
        wanted["covariate_sum_squares"] = z * z - zp * zp
        wanted["covariate_cross_sum"] = x * z - xp * zp
        if ratio:
            wanted["covariate_denominator_cross_sum"] = y * z - yp * zp
        if metric.kind == "ratio":
            # The pre-period denominator, CUPED's second covariate for a ratio.
            wanted |= {
                "pre_denominator_sum": w - wp,
                "pre_denominator_sum_squares": w * w - wp * wp,
                "pre_denominator_cross_sum": x * w - xp * wp,
                "pre_denominator_denominator_cross_sum": y * w - yp * wp,
                "covariate_pre_denominator_cross_sum": z * w - zp * wp,
            }
    # Units whose denominator (ratio) or value is not zero, now minus before.
    counted, counted_before = (y, yp) if metric.kind == "ratio" else (x, xp)
    wanted["nonzero_units"] = _nonzero(counted) - _nonzero(counted_before)
    return wanted


def _nonzero(value: Any) -> Any:
    return case((value != 0, 1.0), else_=0.0)
