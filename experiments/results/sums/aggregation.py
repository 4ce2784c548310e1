"""Per-group sufficient statistics of an experiment's metrics, computed in one SQL query.

A group is what the sums are broken down by (`GroupKey`): the variant today.

Attribution (docs/results.md): a unit's first exposure fixes its variant and its start; units
exposed to more than one variant are left out (and counted); a conversion counts when it
happens at or after the unit's start, within the metric's window and not after `end`, and was
sent with a kind of key the metric counts (its `sources`; all when it names none).
Conversions of units never exposed never meet an exposure in the join and so are ignored.

The query has three levels, all grouped in the database (the first two per unit, built by
`unit_columns.unit_values`):
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
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.sql.expression import ColumnElement, Select

from experiments.models.metric import MetricDefinition
from experiments.results.sums.unit_columns import MULTI_VARIANT, unit_values
from stats import CovariateStats, RatioStats

NO_PRE_PERIOD = CovariateStats(
    covariate_sum=0.0, covariate_sum_squares=0.0, covariate_cross_sum=0.0
)  # covariate sums without CUPED or pre-period data
PRE_DENOMINATOR_FIELDS = (
    "pre_denominator_sum",
    "pre_denominator_sum_squares",
    "pre_denominator_cross_sum",
    "pre_denominator_denominator_cross_sum",
    "covariate_pre_denominator_cross_sum",
)
"""A ratio's pre-period denominator sums (CUPED's second covariate): stored by name only when
the metric has them, so looks without them keep their stored form."""
SUM_FIELDS = (
    *(item.name for item in fields(RatioStats)),
    *(item.name for item in fields(CovariateStats) if item.name not in PRE_DENOMINATOR_FIELDS),
    "nonzero_units",
)
"""The names of a `VariantSums`' values, in the order older looks stored them as a list."""


@dataclass(frozen=True, slots=True)
class GroupKey:
    """What one group of sums is grouped by: the variant today.

    Each field is a column of the same name in the results queries (`GROUP_COLUMNS`) and a named
    part of every stored group, so a breakdown (by variant and level, say) adds a field here and
    a column to the per-unit queries, not a new shape.
    """

    variant: str

    @classmethod
    def of_row(cls, row: RowMapping) -> GroupKey:
        """The group key of a query row, read from its `GROUP_COLUMNS`."""
        return cls(**{name: row[name] for name in GROUP_COLUMNS})


GROUP_COLUMNS = tuple(item.name for item in fields(GroupKey))


@dataclass(frozen=True, slots=True)
class VariantSums:
    """One metric's sufficient statistics in one variant, summed over its exposed units.

    Every kind of metric is summed as a ratio (`totals`): per unit the numerator is the
    metric's (capped) value and the denominator is 1 for conversion and mean metrics, so their
    denominator sums are the unit count. `covariate` holds the sums of the same metric's
    numerator over the 14 days before exposure (all zero without CUPED or pre-period data), and
    for a ratio those of its denominator over the same days, CUPED's second covariate.
    `nonzero_units` counts the units with a non-zero denominator (ratio) or value (conversion,
    mean): for AOV, the units with an order; None when the source does not say (totals pasted
    from an e-mail tool), and the statistics then count every unit.
    """

    totals: RatioStats
    covariate: CovariateStats = NO_PRE_PERIOD
    nonzero_units: int | None = None

    def as_fields(self) -> dict[str, float | None]:
        """The stored form (a look's `sums`, docs/results.md): `{field: value}` over
        `SUM_FIELDS`."""
        covariate = asdict(self.covariate)
        second = {name: covariate.pop(name) for name in PRE_DENOMINATOR_FIELDS}
        return {
            **asdict(self.totals),
            **covariate,
            "nonzero_units": self.nonzero_units,
            **({} if not any(second.values()) else second),
        }

    @classmethod
    def from_fields(cls, values: Mapping[str, float | None]) -> VariantSums:
        """The sums of an `as_fields` mapping; the counts are rounded to whole units (the
        backfill accumulates them as floats).

        A sum a query need not compute may be left out, and follows from the others: a
        denominator of 1 per unit sums (and squares) to the unit count and crosses to the
        numerator's and covariate's sums, a 0/1 numerator is its own square, and a metric
        without a covariate has covariate sums of 0.
        """

        def given(name: str, default: float) -> float:
            value = values.get(name)
            return default if value is None else float(value)

        units = round(given("n", 0.0))
        numerator_sum = given("numerator_sum", 0.0)
        covariate_sum = given("covariate_sum", 0.0)
        nonzero_units = values.get("nonzero_units")
        return cls(
            totals=RatioStats(
                n=units,
                numerator_sum=numerator_sum,
                numerator_sum_squares=given("numerator_sum_squares", numerator_sum),
                denominator_sum=given("denominator_sum", float(units)),
                denominator_sum_squares=given("denominator_sum_squares", float(units)),
                cross_sum=given("cross_sum", numerator_sum),
            ),
            covariate=CovariateStats(
                covariate_sum=covariate_sum,
                covariate_sum_squares=given("covariate_sum_squares", 0.0),
                covariate_cross_sum=given("covariate_cross_sum", 0.0),
                covariate_denominator_cross_sum=given(
                    "covariate_denominator_cross_sum", covariate_sum
                ),
                **{name: given(name, 0.0) for name in PRE_DENOMINATOR_FIELDS},
            ),
            nonzero_units=None if nonzero_units is None else round(nonzero_units),
        )


@dataclass(frozen=True, slots=True)
class GroupSums:
    """One group's exposed units and each metric's sums over them (metric key -> sums)."""

    units: int
    metrics: dict[str, VariantSums]


@dataclass(frozen=True, slots=True)
class Aggregates:
    """The sums of every group (the variants, in the experiment's order), units left out for
    seeing several variants, and the cap each percentile cap came to."""

    groups: dict[GroupKey, GroupSums]
    multi_variant_units: int
    caps: dict[str, float | None] = field(default_factory=dict)

    @classmethod
    def by_variant(
        cls,
        units: Mapping[str, int],
        multi_variant_units: int,
        metrics: Mapping[str, Mapping[str, VariantSums]],
        caps: dict[str, float | None] | None = None,
    ) -> Aggregates:
        """Aggregates from units per variant and sums per metric and variant."""
        groups = {
            GroupKey(variant=variant): GroupSums(
                units=count, metrics={key: sums[variant] for key, sums in metrics.items()}
            )
            for variant, count in units.items()
        }
        return cls(groups, multi_variant_units, {} if caps is None else caps)

    @property
    def units(self) -> dict[str, int]:
        """Units per variant (the group key's only field today)."""
        return {key.variant: group.units for key, group in self.groups.items()}

    @property
    def metrics(self) -> dict[str, dict[str, VariantSums]]:
        """Sums per metric key and variant."""
        keys = next(iter(self.groups.values())).metrics if self.groups else {}
        return {
            metric: {key.variant: group.metrics[metric] for key, group in self.groups.items()}
            for metric in keys
        }

    @property
    def exposed_units(self) -> int:
        """All exposed units, including those left out."""
        return sum(group.units for group in self.groups.values()) + self.multi_variant_units

    @property
    def multi_variant_share(self) -> float:
        """The share of the exposed units left out for seeing several variants (0 without any
        exposed unit)."""
        exposed = self.exposed_units
        return self.multi_variant_units / exposed if exposed else 0.0


def aggregate(
    connection: Connection,
    experiment: str,
    variants: Sequence[str],
    metrics: Sequence[MetricDefinition],
    end: datetime,
    *,
    cuped: bool = True,
    cap_percentiles: Mapping[str, float] | None = None,
) -> Aggregates:
    """Sufficient statistics of `metrics` per variant of `experiment`, counting events up to `end`.

    Variants without units get zero sums; exposures naming variants outside `variants` are
    ignored. With `cuped`, every metric also gets its pre-exposure covariate sums.
    `cap_percentiles` (metric key -> percentile, e.g. 99) caps those metrics' per-unit
    numerators at that percentile of the experiment's units (see `percentile_caps`).
    """
    dialect = connection.dialect.name
    caps: dict[str, float | None] = {}
    if cap_percentiles:
        caps = percentile_caps(connection, experiment, metrics, end, cap_percentiles)
        metrics = [_with_cap(metric, caps.get(metric.key)) for metric in metrics]
    query, labels = _sums_query(experiment, metrics, end, cuped=cuped, dialect=dialect)
    found: dict[GroupKey, GroupSums] = {}
    multi_variant_units = 0
    for row in connection.execute(query).mappings():
        key, units = GroupKey.of_row(row), int(row["units"])
        if key.variant == MULTI_VARIANT:
            multi_variant_units = units
            continue
        found[key] = GroupSums(
            units=units,
            metrics={metric: _group_sums(row, labels[metric], units) for metric in labels},
        )
    empty = GroupSums(units=0, metrics=dict.fromkeys(labels, _ZERO))
    groups = {key: found.get(key, empty) for key in (GroupKey(variant=v) for v in variants)}
    return Aggregates(groups, multi_variant_units, caps)


def _group_sums(row: RowMapping, labels: dict[str, str], units: int) -> VariantSums:
    """One metric's sums in one row (sum name -> the column's label); the sums the query leaves
    out follow from the others (`VariantSums.from_fields`)."""
    return VariantSums.from_fields(
        {"n": units} | {name: float(row[label] or 0.0) for name, label in labels.items()}
    )


_ZERO = VariantSums(
    RatioStats(
        n=0,
        numerator_sum=0.0,
        numerator_sum_squares=0.0,
        denominator_sum=0.0,
        denominator_sum_squares=0.0,
        cross_sum=0.0,
    )
)


def percentile_caps(
    connection: Connection,
    experiment: str,
    metrics: Sequence[MetricDefinition],
    end: datetime,
    percentiles: Mapping[str, float],
) -> dict[str, float | None]:
    """The cap of each metric in `percentiles`: the nearest-rank percentile of the per-unit
    numerator (uncapped) over the experiment's units with a non-zero value, all variants
    together, up to `end`; None when no unit has a value yet.

    Computed in the database with window functions (SQLite and PostgreSQL alike), one query
    per metric, so no unit-level value reaches Python.
    """
    chosen = [metric for metric in metrics if metric.key in percentiles]
    if not chosen:
        return {}
    uncapped = [metric.model_copy(update={"cap": None}) for metric in chosen]
    per_unit = unit_values(experiment, uncapped, end, cuped=False, dialect=connection.dialect.name)
    caps: dict[str, float | None] = {}
    for index, metric in enumerate(chosen):
        value = per_unit.c[f"m{index}_num"]
        ranked = (
            select(
                value.label("value"),
                func.row_number().over(order_by=value).label("position"),
                func.count().over().label("total"),
            )
            .where(value != 0, per_unit.c.variant != MULTI_VARIANT)
            .subquery("ranked")
        )
        share = percentiles[metric.key] / 100.0
        cap = select(func.min(ranked.c.value).label("cap")).where(
            ranked.c.position >= ranked.c.total * share
        )
        found = connection.execute(cap).mappings().one()["cap"]
        caps[metric.key] = None if found is None else float(found)
    return caps


def _with_cap(metric: MetricDefinition, percentile_cap: float | None) -> MetricDefinition:
    """The metric capped at the smaller of its own cap and its percentile cap."""
    if percentile_cap is None:
        return metric
    cap = percentile_cap if metric.cap is None else min(metric.cap, percentile_cap)
    return metric.model_copy(update={"cap": cap})


def _sums_query(
    experiment: str,
    metrics: Sequence[MetricDefinition],
    end: datetime,
    *,
    cuped: bool,
    dialect: str,
) -> tuple[Select[Any], dict[str, dict[str, str]]]:
    """The query of every group's units and sums, and per metric key its sums' column labels
    (sum name -> label, `m{index}_{name}`)."""
    per_unit = unit_values(experiment, metrics, end, cuped=cuped, dialect=dialect)
    group_columns = [per_unit.c[name] for name in GROUP_COLUMNS]
    outputs: list[ColumnElement[Any]] = [*group_columns, func.count().label("units")]
    labels: dict[str, dict[str, str]] = {}
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
        labels[metric.key] = {name: f"m{index}_{name}" for name in wanted}
        outputs += [sum_.label(f"m{index}_{name}") for name, sum_ in wanted.items()]
    query = select(*outputs).group_by(*group_columns)
    return query, labels
