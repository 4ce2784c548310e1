"""The rows of one group of ``stats.bulk``: analyses with the same number of arms, read in parts
of one kind and CUPED or not (their sums, estimates and gates differ), then joined, one row per
analysis, for the readings every kind shares."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from stats._bulk_arms import Arms, ArmSums, estimates, spread_units
from stats._bulk_cuped import adjusted
from stats._bulk_pairs import Pairs, Side, read_pairs
from stats._vector import Flags, Floats
from stats.types import Minimums, StatisticsKind, VariantInput


class Part(NamedTuple):
    """The analyses of one kind and CUPED or not, their unadjusted estimates, units for the
    spread, gates and (with CUPED) each comparison's variance reduction."""

    analyses: list[Sequence[VariantInput]]
    kind: StatisticsKind
    raw: Arms
    units: Floats
    pairs: Pairs
    reductions: Floats | None


class Rows(NamedTuple):
    """The parts joined: analyses, kinds and CUPED by row; arrays by row and arm (``raw``,
    ``units``) or by row and comparison (``pairs``, ``reductions``, NaN without CUPED)."""

    analyses: list[Sequence[VariantInput]]
    kinds: list[StatisticsKind]
    cuped: Flags
    raw: Arms
    units: Floats
    pairs: Pairs
    reductions: Floats


def part(analyses: list[Sequence[VariantInput]], sums: ArmSums, least: Minimums) -> Part:
    units = spread_units(sums)
    raw = estimates(sums, units)
    arms = raw if sums.covariate is None else adjusted(sums, raw)
    pairs = read_pairs(sums, arms, units, least)
    reductions = None if sums.covariate is None else _reductions(raw, arms, pairs)
    return Part(analyses, sums.kind, raw, units, pairs, reductions)


def _reductions(raw: Arms, arms: Arms, pairs: Pairs) -> Floats:
    """``stats.cuped.variance_reduction`` of every comparison (0 where Agresti-Caffo read)."""
    before = raw.variance[:, :1] + raw.variance[:, 1:]
    after = arms.variance[:, :1] + arms.variance[:, 1:]
    with np.errstate(all="ignore"):
        reduction = np.where(before > 0, 1.0 - after / before, 0.0)
    result: Floats = np.where(pairs.replaced, 0.0, reduction)
    return result


def _stacked(columns: Sequence[Sequence[npt.NDArray[Any]]]) -> list[Any]:
    """Each field's arrays of the parts, one after the other (``columns``: per part, its
    fields)."""
    return [np.concatenate(field) for field in zip(*columns, strict=True)]


def joined(parts: list[Part]) -> Rows:
    """The parts' rows, part after part."""

    pairs = Pairs(
        Side(*_stacked([p.pairs.control for p in parts])),
        Side(*_stacked([p.pairs.treatment for p in parts])),
        *(
            np.concatenate([p.pairs[field] for p in parts])
            for field in range(2, len(Pairs._fields))
        ),
    )
    return Rows(
        [analysis for p in parts for analysis in p.analyses],
        [p.kind for p in parts for _ in p.analyses],
        np.concatenate([np.full(len(p.analyses), p.reductions is not None) for p in parts]),
        Arms(*_stacked([p.raw for p in parts])),
        np.concatenate([p.units for p in parts]),
        pairs,
        np.concatenate(
            [
                np.full(p.pairs.withheld.shape, np.nan) if p.reductions is None else p.reductions
                for p in parts
            ]
        ),
    )
