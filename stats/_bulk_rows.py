"""The rows of one group of ``stats.bulk``: analyses with the same number of arms, sorted by
kind and CUPED or not (``stats._bulk_arms.Block``), one row per analysis, read up to the pairs
every reading starts from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from stats._bulk_arms import ArmSums, Block
from stats._bulk_cuped import adjusted
from stats._bulk_estimates import Arms, estimates, spread_units
from stats._bulk_pairs import Pairs, read_pairs
from stats._vector import Floats
from stats.types import Minimums


class Rows(NamedTuple):
    """The analyses of a group: their arms' keys, counts and ``nonzero_units`` (flat, arm after
    arm); their kinds' ``blocks``; arrays by row and arm (``raw``: the estimates before CUPED,
    ``units``) or by row and comparison (``pairs``, ``reductions``: CUPED's variance reduction,
    meaningless in the rows without CUPED sums)."""

    keys: Sequence[str]
    counts: list[int]
    given: Sequence[int | None]
    blocks: tuple[Block, ...]
    raw: Arms
    units: Floats
    pairs: Pairs
    reductions: Floats


def read_rows(keys: Sequence[str], sums: ArmSums, least: Minimums) -> Rows:
    """The rows of the analyses of ``sums`` (their arms' ``keys``), with the ``least`` units
    and conversions of a reading."""
    units = spread_units(sums)
    raw = estimates(sums, units)
    arms = raw if sums.covariate is None else adjusted(sums, raw)
    pairs = read_pairs(sums, arms, units, least)
    reductions = _reductions(raw, arms, pairs)
    return Rows(keys, sums.counts, sums.given, sums.blocks, raw, units, pairs, reductions)


def _reductions(raw: Arms, arms: Arms, pairs: Pairs) -> Floats:
    """``stats.cuped.variance_reduction`` of every comparison (0 where Agresti-Caffo read;
    meaningless, and no warning, in the rows without CUPED sums)."""
    with np.errstate(all="ignore"):
        before = raw.variance[:, :1] + raw.variance[:, 1:]
        after = arms.variance[:, :1] + arms.variance[:, 1:]
        reduction = np.where(before > 0, 1.0 - after / before, 0.0)
    result: Floats = np.where(pairs.replaced, 0.0, reduction)
    return result
