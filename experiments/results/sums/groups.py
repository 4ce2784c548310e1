"""The typed sums of a look: per group (a variant, or a variant in one level of a dimension) its
units and each metric's sufficient statistics, as the aggregation, the backfill and the stored
looks give them and the readings read them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

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
    """What one group of sums is grouped by: the variant, for a segment the dimension and
    the unit's level in it (both None for the whole), and for a bandit's update period its
    number (`sums.periods`; None for the whole).

    Stored by name with every group (`as_dict`: the fields that are set), so a look stored
    before segments reads back as the variant alone.
    """

    variant: str
    dimension: str | None = None
    level: str | None = None
    period: int | None = None

    @classmethod
    def of_row(cls, row: Mapping[Any, Any]) -> GroupKey:
        """The group key of a query row of the whole, read from its `GROUP_COLUMNS`."""
        return cls(**{name: row[name] for name in GROUP_COLUMNS})

    def as_dict(self) -> dict[str, str]:
        """The key by name as stored: its fields that are set."""
        return {name: value for name, value in asdict(self).items() if value is not None}


GROUP_COLUMNS = ("variant",)
"""The columns the whole's sums are grouped by in the results queries."""


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
        covariate = _fields_of(self.covariate)
        second = {name: covariate.pop(name) for name in PRE_DENOMINATOR_FIELDS}
        return {
            **_fields_of(self.totals),
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
    """The sums of every group of the whole (the variants, in the experiment's order), units
    left out for seeing several variants, the cap each percentile cap came to, the
    segments: per (variant, dimension, level) the sums of the units with that level
    (`levels.segment_aggregates`; empty without dimensions and in looks stored before them),
    and a bandit's update periods: per (variant, period) the sums of the units first exposed in
    that period (`periods`; empty for an A/B test and for a bandit before its first update)."""

    groups: dict[GroupKey, GroupSums]
    multi_variant_units: int
    caps: dict[str, float | None] = field(default_factory=dict)
    segments: dict[GroupKey, GroupSums] = field(default_factory=dict)
    periods: dict[GroupKey, GroupSums] = field(default_factory=dict)

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

    def with_sums_of(self, other: Aggregates) -> Aggregates | None:
        """These aggregates with `other`'s metrics' sums in place of their own, in the whole and
        the segments (a few metrics aggregated again, capped); None unless both count the same
        units in the same groups, or where either has periods."""
        if self.periods or other.periods or self.multi_variant_units != other.multi_variant_units:
            return None
        groups = _merged_groups(self.groups, other.groups)
        segments = _merged_groups(self.segments, other.segments)
        if groups is None or segments is None:
            return None
        return replace(self, groups=groups, segments=segments)

    @property
    def units(self) -> dict[str, int]:
        """Units per variant."""
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

    @property
    def dimensions(self) -> list[str]:
        """The dimensions the segments are broken down by, in the experiment's order."""
        return list(dict.fromkeys(k.dimension for k in self.segments if k.dimension is not None))

    def levels(self, dimension: str) -> dict[str, Aggregates]:
        """Each level of `dimension` (largest first, then `other` and `(none)`) as aggregates
        of its own, keyed by variant like the whole's, so the same readings read them; empty
        for a dimension the look has no sums of. The rest of the units in a level is the
        whole minus it (sufficient statistics subtract as they add)."""
        found: dict[str, dict[GroupKey, GroupSums]] = {}
        for key, group in self.segments.items():
            if key.dimension == dimension and key.level is not None:
                found.setdefault(key.level, {})[GroupKey(variant=key.variant)] = group
        return {level: Aggregates(groups, 0, self.caps) for level, groups in found.items()}


ZERO_SUMS = VariantSums(
    RatioStats(
        n=0,
        numerator_sum=0.0,
        numerator_sum_squares=0.0,
        denominator_sum=0.0,
        denominator_sum_squares=0.0,
        cross_sum=0.0,
    )
)


def _merged_groups(
    mine: Mapping[GroupKey, GroupSums], theirs: Mapping[GroupKey, GroupSums]
) -> dict[GroupKey, GroupSums] | None:
    """Each of `mine` with the metrics' sums of the same group of `theirs` in place of its own;
    None unless both have the same groups with the same units."""
    if mine.keys() != theirs.keys():
        return None
    merged: dict[GroupKey, GroupSums] = {}
    for key, group in mine.items():
        found = theirs[key]
        if found.units != group.units:
            return None
        merged[key] = GroupSums(units=group.units, metrics={**group.metrics, **found.metrics})
    return merged


def _fields_of(sums: RatioStats | CovariateStats) -> dict[str, Any]:
    """A dataclass of numbers as `{field: value}`: what `asdict` gives, without its deep copy
    of each value (a look reads the fields of every group's sums, several times)."""
    return {name: getattr(sums, name) for name in sums.__dataclass_fields__}
