"""The result objects of ``stats.bulk``: the same ``AnalysisResult`` values ``analyze_stats``
builds, made column by column from the arrays of a group of analyses.

Comparisons are flat here, analysis after analysis (row-major over the (analysis, comparison)
arrays); the readings cover those with a reading (``read``), in the same order. A figure that
is ``None`` in a result is ``None`` in its column (an object array).
"""

from __future__ import annotations

from itertools import repeat
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from stats import _builders as build
from stats._bulk_pairs import REASONS, Pairs
from stats._bulk_readings import BOUNDED, UNDEFINED, Bayesian, Difference, Relative, Sequential
from stats._bulk_rows import Rows
from stats._vector import Flags, Floats
from stats.gates import UnitsRule
from stats.results import AnalysisResult, BayesianResult, Interval
from stats.srm import SRM_THRESHOLD
from stats.types import (
    Alternative,
    Correction,
    Minimums,
    Prior,
    Reason,
    StatisticsKind,
)

Objects = npt.NDArray[np.object_]

_NO_BAYESIAN = BayesianResult(None, None)
_NONZERO_UNITS, _KISH = UnitsRule.NONZERO_UNITS.value, UnitsRule.KISH.value
# ``REASONS`` and the reasons of a relative interval, by code.
_ALL_REASONS = (*REASONS, Reason.CONTROL_MEAN_ZERO, Reason.RELATIVE_INTERVAL_UNBOUNDED)
_RELATIVE_REASONS = np.array([len(REASONS), len(REASONS) + 1, 0])  # by Relative.shape


class Terms(NamedTuple):
    """The options of one group of analyses, parsed as ``stats.analysis`` parses them."""

    level: float
    side: Alternative
    planned: int
    prior: Prior | None
    correction: Correction
    least: Minimums
    weights: tuple[float, ...]


class Readings(NamedTuple):
    """The readings of the comparisons that have one, flat in row order."""

    difference: Difference
    p_value: Floats
    p_adjusted: Floats
    half_width: Floats
    relative: Relative
    sequential: Sequential
    bayesian: Bayesian


class _Flat:
    """Scatters the readings' figures into columns over every comparison of the group."""

    def __init__(self, read: Flags) -> None:
        self.read = read

    def column(self, values: npt.NDArray[Any], fill: Any = None) -> Objects:
        out = np.full(self.read.shape, fill, dtype=object)
        out[self.read] = values
        return out


def _or_none(kept: Flags, values: Floats) -> Objects:
    """``values`` as Python floats where ``kept``, None elsewhere."""
    figures: Objects = values.astype(object)
    figures[~kept] = None
    return figures


def _intervals(estimate: Objects, low: Objects, high: Objects) -> list[Interval]:
    """The intervals of the columns (through ``tuple.__new__``: a named tuple's own ``__new__``
    is a Python function, four times slower)."""
    figures = zip(estimate.tolist(), low.tolist(), high.tolist(), strict=True)
    return list(map(tuple.__new__, repeat(Interval), figures))


def _absolute(
    flat: _Flat, withheld: tuple[Objects, Floats], half_width: Floats, side: Alternative
) -> tuple[Objects, Objects, Objects]:
    """``bounded_interval`` of the read comparisons; the withheld ones' point estimates."""
    estimate, value = withheld
    estimate[flat.read] = value
    low = flat.column(value - half_width)
    high = flat.column(value + half_width)
    if side is Alternative.LESS:
        low[:] = None
    if side is Alternative.GREATER:
        high[:] = None
    return estimate, low, high


def _relative(
    flat: _Flat, withheld: Objects, relative: Relative, side: Alternative, clipped: Flags
) -> tuple[Objects, Objects, Objects]:
    """``fieller_relative``'s intervals of the read comparisons (cut at -1 for a proportion);
    the withheld ones' point estimates."""
    bounded = relative.shape == BOUNDED
    low = np.where(bounded, relative.low, np.nan)
    high = np.where(bounded, relative.high, np.nan)
    low = np.where(clipped & (low < -1.0), -1.0, low)
    keeps_low = relative.keeps_low if side is not Alternative.TWO_SIDED else bounded
    keeps_high = ~relative.keeps_low if side is not Alternative.TWO_SIDED else bounded
    estimate = withheld.copy()
    estimate[flat.read] = _or_none(relative.shape != UNDEFINED, relative.estimate)
    low_column = flat.column(_or_none(bounded & keeps_low, low))
    high_column = flat.column(_or_none(bounded & keeps_high, high))
    return estimate, low_column, high_column


def _point_estimates(pairs: Pairs, defined: Flags) -> tuple[Objects, Objects]:
    """``stats.analysis._withheld``'s absolute and relative estimates (None where undefined)."""
    control, treatment = pairs.control.mean.ravel(), pairs.treatment.mean.ravel()
    with np.errstate(all="ignore"):
        absolute = _or_none(defined, treatment - control)
        relative = _or_none(defined & (control != 0), treatment / control - 1.0)
    return absolute, relative


def _summaries(rows: Rows) -> list[tuple[Any, ...]]:
    """``stats.analysis._summary`` of every arm, grouped by analysis (a proportion's without
    the units its spread was read from)."""
    arms = [arm for analysis in rows.analyses for arm in analysis]
    keys = [arm.key for arm in arms]
    counts = [arm.stats.n for arm in arms]
    means = _or_none(rows.raw.defined, rows.raw.mean).ravel().tolist()
    spread: list[Any] = []
    rules: list[str | None] = []
    width = len(rows.analyses[0])
    for kind, first in zip(rows.kinds, range(0, len(arms), width), strict=True):
        given = [arm.nonzero_units for arm in arms[first : first + width]]
        if kind is StatisticsKind.PROPORTION:
            spread += [None] * width
            rules += [None] * width
            continue
        kish = rows.units[first // width].tolist()
        spread += [
            units if count is None else count for count, units in zip(given, kish, strict=True)
        ]
        rules += [_KISH if count is None else _NONZERO_UNITS for count in given]
    built = list(map(build.variant_summary, keys, counts, means, spread, rules))
    return list(zip(*[iter(built)] * width, strict=True))


def assembled(rows: Rows, readings: Readings, srm: Floats, terms: Terms) -> list[AnalysisResult]:
    """One ``AnalysisResult`` per row."""
    analyses, raw, pairs = rows.analyses, rows.raw, rows.pairs
    side, level = terms.side, terms.level
    count = len(analyses[0]) - 1
    flat = _Flat(~pairs.withheld.ravel())
    proportions = np.array([kind is StatisticsKind.PROPORTION for kind in rows.kinds])
    clipped = np.repeat(proportions, count)[flat.read]
    defined = (raw.defined[:, :1] & raw.defined[:, 1:]).ravel()
    point_absolute, point_relative = _point_estimates(pairs, defined)
    value = readings.difference.value
    absolute = _intervals(*_absolute(flat, (point_absolute, value), readings.half_width, side))
    relative = _intervals(*_relative(flat, point_relative, readings.relative, side, clipped))
    late = readings.sequential
    late_half = late.critical * readings.difference.se
    late_absolute = _intervals(*_absolute(flat, (point_absolute.copy(), value), late_half, side))
    late_relative = _intervals(*_relative(flat, point_relative, late.relative, side, clipped))
    late_adjusted = flat.column(late.adjusted)
    sequential = list(
        map(
            build.sequential_result,
            flat.column(late.p_value).tolist(),
            late_absolute,
            late_relative,
            flat.column(late.adjusted < level, False).tolist(),
            late_adjusted.tolist(),
        )
    )
    bayes = readings.bayesian
    believed = bayes.defined
    chance = flat.column(_or_none(believed, bayes.chance)).tolist()
    loss = flat.column(_or_none(believed, bayes.loss)).tolist()
    bayesian = [
        _NO_BAYESIAN if odds is None else build.bayesian_result(odds, cost)
        for odds, cost in zip(chance, loss, strict=True)
    ]
    codes = pairs.reason.ravel().copy()
    relative_codes = _RELATIVE_REASONS[readings.relative.shape]
    codes[flat.read] = np.where(codes[flat.read] != 0, codes[flat.read], relative_codes)
    reasons = [_ALL_REASONS[code] for code in codes.tolist()]
    cuped = [
        build.cuped_result(reduction) if adjusted else None
        for reduction, adjusted in zip(
            rows.reductions.ravel().tolist(), np.repeat(rows.cuped, count).tolist(), strict=True
        )
    ]
    variants = [variant.key for analysis in analyses for variant in analysis[1:]]
    baselines = [analysis[0].key for analysis in analyses for _ in range(count)]
    comparisons = list(
        map(
            build.comparison,
            variants,
            baselines,
            absolute,
            relative,
            flat.column(readings.p_value).tolist(),
            flat.column(readings.p_adjusted).tolist(),
            flat.column(readings.p_adjusted < level, False).tolist(),
            sequential,
            bayesian,
            reasons,
            cuped,
        )
    )
    srm_values = srm.tolist()
    return list(
        map(
            build.analysis_result,
            rows.kinds,
            repeat(level),
            _summaries(rows),
            [build.srm_result(p, p < SRM_THRESHOLD) for p in srm_values],
            zip(*[iter(comparisons)] * count, strict=True),
        )
    )
