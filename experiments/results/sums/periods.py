"""A bandit's update periods in the sums: each unit belongs to the period of its first exposure.

The period is one more group column (`unit_columns.PERIOD`), computed per unit from its first
exposure and the periods' starts (the boundaries, period 1 onwards: period 0 holds every unit
exposed before the first update, imported exposures included). The query groups by (variant,
period); the whole is then the sum of a variant's periods in Python (sufficient statistics add
up), as the segments' whole is the sum of a dimension's levels (`levels`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from experiments.results.sums.groups import GroupKey, GroupSums
from experiments.results.sums.levels import RawKey, add_groups


def _added(found: dict[Any, GroupSums], key: Any, sums: GroupSums) -> None:
    found[key] = add_groups(found[key], sums) if key in found else sums


def whole_and_periods(
    rows: Mapping[tuple[str, int], GroupSums], variants: Sequence[str], empty: GroupSums
) -> tuple[dict[GroupKey, GroupSums], dict[GroupKey, GroupSums]]:
    """Per variant its sums over all periods, and per (variant, period) those of the period,
    from the sums per (variant, period); every variant in every period (zero sums without
    units). Variants outside `variants` are left out."""
    count = 1 + max((period for _, period in rows), default=0)
    periods = {
        GroupKey(variant=variant, period=period): empty
        for period in range(count)
        for variant in variants
    }
    whole = {GroupKey(variant=variant): empty for variant in variants}
    for (variant, period), sums in rows.items():
        if variant not in variants:
            continue
        periods[GroupKey(variant=variant, period=period)] = sums
        whole[GroupKey(variant=variant)] = add_groups(whole[GroupKey(variant=variant)], sums)
    return whole, periods


def fold_levels(
    raw: Mapping[tuple[int, str | None, str, int], GroupSums],
) -> tuple[dict[RawKey, GroupSums], dict[tuple[str, int], GroupSums]]:
    """The segments' rows with the periods summed out, and the (variant, period) sums of the
    whole: the sum of the first dimension's levels (every unit has one level in each)."""
    levels: dict[RawKey, GroupSums] = {}
    periods: dict[tuple[str, int], GroupSums] = {}
    for (number, text, variant, period), sums in raw.items():
        _added(levels, (number, text, variant), sums)
        if number == 0:
            _added(periods, (variant, period), sums)
    return levels, periods
