"""A look's sums as stored with it (`ResultSnapshot.sums`), and read back.

Each group is stored with its key by name, its units and per metric its sums by name:

    {"groups": [{"group": {"variant": "control"}, "units": 120,
                 "metrics": {"conversion_rate": {"n": 120, "numerator_sum": 14.0, ...}}}],
     "multi_variant_units": 2, "caps": {}}

A look of an experiment with dimensions stores its segments' groups in the same list, keyed
`{"variant": "control", "dimension": "device", "level": "mobile"}`; looks stored before them
have none and read back with no segments. A bandit's look stores its update periods' groups
there too, keyed `{"variant": "control", "period": 2}` (none before its first update). Looks
stored before 2026-12 keep `units` (variant -> count) and, per metric and variant, the sums as
a list in `SUM_FIELDS` order; `stored_aggregates` reads both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from experiments.results.sums.aggregation import (
    SUM_FIELDS,
    Aggregates,
    GroupKey,
    GroupSums,
    VariantSums,
)


def sums_json(aggregates: Aggregates) -> dict[str, Any]:
    """The JSON stored for `aggregates`."""
    groups = {**aggregates.groups, **aggregates.segments, **aggregates.periods}
    return {
        "groups": [
            {
                "group": key.as_dict(),
                "units": group.units,
                "metrics": {metric: sums.as_fields() for metric, sums in group.metrics.items()},
            }
            for key, group in groups.items()
        ],
        "multi_variant_units": aggregates.multi_variant_units,
        "caps": aggregates.caps,
    }


def stored_aggregates(stored: Mapping[str, Any], dimension: str | None = None) -> Aggregates:
    """The aggregates a look stored, in today's form or the positional one of older looks; with
    `dimension`, of the segments only that dimension's (a breakdown reads no other)."""
    caps = dict(stored.get("caps", {}))
    if "groups" not in stored:
        return _positional_aggregates(stored, caps)
    groups: dict[GroupKey, GroupSums] = {}
    segments: dict[GroupKey, GroupSums] = {}
    periods: dict[GroupKey, GroupSums] = {}
    for entry in stored["groups"]:
        named = entry["group"].get("dimension")
        if dimension is not None and named is not None and named != dimension:
            continue
        key = GroupKey(**entry["group"])
        sums = GroupSums(
            units=entry["units"],
            metrics={
                metric: VariantSums.from_fields(sums) for metric, sums in entry["metrics"].items()
            },
        )
        if key.period is not None:
            periods[key] = sums
        else:
            (groups if key.dimension is None else segments)[key] = sums
    return Aggregates(groups, stored["multi_variant_units"], caps, segments, periods)


def _positional_aggregates(stored: Mapping[str, Any], caps: dict[str, float | None]) -> Aggregates:
    """An older look's aggregates: units per variant and each sum list in `SUM_FIELDS` order."""
    metrics = {
        metric: {variant: _from_list(values) for variant, values in per_variant.items()}
        for metric, per_variant in stored["metrics"].items()
    }
    return Aggregates.by_variant(stored["units"], stored["multi_variant_units"], metrics, caps)


def _from_list(values: Sequence[float | None]) -> VariantSums:
    if len(values) != len(SUM_FIELDS):
        raise ValueError(f"stored sums have {len(values)} values, expected {len(SUM_FIELDS)}")
    return VariantSums.from_fields(dict(zip(SUM_FIELDS, values, strict=True)))
