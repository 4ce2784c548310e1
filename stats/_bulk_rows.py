"""The rows of one group of ``stats.bulk``: analyses with the same number of arms, read in parts
of one kind and CUPED or not (their sums, estimates and gates differ), then joined, one row per
analysis, for the readings every kind shares."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from stats._bulk_arms import Arms, ArmSums, estimates, spread_units
from stats._bulk_cuped import adjusted
from stats._bulk_pairs import Pairs, Side, read_pairs
from stats._vector import Floats
from stats.types import Minimums, StatisticsKind


class Part(NamedTuple):
    """The analyses of one kind and CUPED or not: their arms' keys, counts and
    ``nonzero_units`` as given (flat, arm after arm), unadjusted estimates, units for the
    spread, gates and (with CUPED) each comparison's variance reduction."""

    keys: Sequence[str]
    counts: list[int]
    given: Sequence[int | None]
    kind: StatisticsKind
    raw: Arms
    units: Floats
    pairs: Pairs
    reductions: Floats | None


class Rows(NamedTuple):
    """The parts joined: the arms' keys, counts and ``nonzero_units`` (flat); each part's kind
    and number of rows (``sizes``), and CUPED or not; arrays by row and arm (``raw``,
    ``units``) or by row and comparison (``pairs``, ``reductions``, NaN without CUPED)."""

    keys: list[str]
    counts: list[int]
    given: list[int | None]
    kinds: list[StatisticsKind]
    sizes: list[int]
    cuped: list[bool]
    raw: Arms
    units: Floats
    pairs: Pairs
    reductions: Floats


def part(keys: Sequence[str], sums: ArmSums, least: Minimums) -> Part:
    units = spread_units(sums)
    raw = estimates(sums, units)
    arms = raw if sums.covariate is None else adjusted(sums, raw)
    pairs = read_pairs(sums, arms, units, least)
    reductions = None if sums.covariate is None else _reductions(raw, arms, pairs)
    return Part(keys, sums.counts, sums.given, sums.kind, raw, units, pairs, reductions)


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
        list(chain.from_iterable(p.keys for p in parts)),
        list(chain.from_iterable(p.counts for p in parts)),
        list(chain.from_iterable(p.given for p in parts)),
        [p.kind for p in parts],
        [len(p.units) for p in parts],
        [p.reductions is not None for p in parts],
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
