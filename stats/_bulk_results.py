"""The result objects of ``stats.bulk``: the same ``AnalysisResult`` values ``analyze_stats``
builds, made column by column from the arrays of a group of analyses.

Comparisons are flat here, analysis after analysis (row-major over the (analysis, comparison)
arrays); the readings cover those with a reading (``read``), in the same order. A figure that
is ``None`` in a result is ``None`` in its column (an object array).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain, repeat
from operator import is_not
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from stats import _builders as build
from stats._bulk_pairs import REASONS, Pairs
from stats._bulk_readings import BOUNDED, UNDEFINED, Bayesian, Difference, Relative, Sequential
from stats._bulk_rows import Rows
from stats._vector import Flags, Floats
from stats.gates import UnitsRule
from stats.results import (
    AnalysisResult,
    BayesianResult,
    CupedResult,
    Interval,
    VariantSummary,
)
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
_RULES = np.array([UnitsRule.KISH.value, UnitsRule.NONZERO_UNITS.value], dtype=object)
"""The rule of an arm's effective units, by whether its ``nonzero_units`` were given."""
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
        self.every = bool(read.all())

    def column(self, values: npt.NDArray[Any], fill: Any = None) -> Objects:
        out = np.full(self.read.shape, fill, dtype=object)
        out[self.read] = values
        return out

    def figures(self, values: npt.NDArray[Any], fill: Any = None) -> list[Any]:
        """``column(values, fill)`` as a list (Python floats and bools, ``fill`` elsewhere)."""
        figures: list[Any] = (values if self.every else self.column(values, fill)).tolist()
        return figures


def _or_none(kept: Flags, values: Floats) -> Objects:
    """``values`` as Python floats where ``kept``, None elsewhere."""
    figures: Objects = values.astype(object)
    figures[~kept] = None
    return figures


def _intervals(estimate: list[Any], low: list[Any], high: list[Any]) -> list[Interval]:
    """The intervals of the columns (through ``tuple.__new__``: a named tuple's own ``__new__``
    is a Python function, four times slower)."""
    figures = zip(estimate, low, high, strict=True)
    return list(map(tuple.__new__, repeat(Interval), figures))


def _estimates(flat: _Flat, withheld: Objects, read: npt.NDArray[Any]) -> list[Any]:
    """The point estimates: ``read`` where the comparison is read, ``withheld`` elsewhere (the
    same float objects in the fixed and the sequential intervals)."""
    estimate = withheld.copy()
    estimate[flat.read] = read
    figures: list[Any] = estimate.tolist()
    return figures


def _absolute(
    flat: _Flat, value: Floats, half_width: Floats, side: Alternative
) -> tuple[list[Any], list[Any]]:
    """The bounds of ``bounded_interval`` of the read comparisons (None elsewhere)."""
    none = [None] * len(flat.read)
    low = none if side is Alternative.LESS else flat.figures(value - half_width)
    high = none if side is Alternative.GREATER else flat.figures(value + half_width)
    return low, high


def _relative(
    flat: _Flat, relative: Relative, side: Alternative, clipped: Flags
) -> tuple[list[Any], list[Any]]:
    """The bounds of ``fieller_relative``'s intervals of the read comparisons (cut at -1 for a
    proportion; None elsewhere)."""
    bounded = relative.shape == BOUNDED
    low = np.where(bounded, relative.low, np.nan)
    high = np.where(bounded, relative.high, np.nan)
    low = np.where(clipped & (low < -1.0), -1.0, low)
    keeps_low = relative.keeps_low if side is not Alternative.TWO_SIDED else bounded
    keeps_high = ~relative.keeps_low if side is not Alternative.TWO_SIDED else bounded
    low_column = flat.column(_or_none(bounded & keeps_low, low))
    high_column = flat.column(_or_none(bounded & keeps_high, high))
    return low_column.tolist(), high_column.tolist()


def _point_estimates(pairs: Pairs, defined: Flags) -> tuple[Objects, Objects]:
    """``stats.analysis._withheld``'s absolute and relative estimates (None where undefined)."""
    control, treatment = pairs.control.mean.ravel(), pairs.treatment.mean.ravel()
    with np.errstate(all="ignore"):
        absolute = _or_none(defined, treatment - control)
        relative = _or_none(defined & (control != 0), treatment / control - 1.0)
    return absolute, relative


def _summaries(rows: Rows) -> list[tuple[VariantSummary, ...]]:
    """``stats.analysis._summary`` of every arm, grouped by analysis (a proportion's without
    the units its spread was read from)."""
    width = rows.raw.mean.shape[1]
    means = _or_none(rows.raw.defined, rows.raw.mean).ravel().tolist()
    spread: list[Any] = []
    rules: list[str | None] = []
    first = 0
    for kind, size in zip(rows.kinds, rows.sizes, strict=True):
        arms = slice(first * width, (first + size) * width)
        if kind is StatisticsKind.PROPORTION:
            spread += repeat(None, size * width)
            rules += repeat(None, size * width)
        else:
            given = np.fromiter(map(is_not, rows.given[arms], repeat(None)), np.bool_)
            kish = rows.units[first : first + size].ravel()
            spread += np.where(given, np.array(rows.given[arms], dtype=object), kish).tolist()
            rules += _RULES[given.view(np.int8)].tolist()
        first += size
    built = list(map(build.variant_summary, rows.keys, rows.counts, means, spread, rules))
    return list(zip(*[iter(built)] * width, strict=True))


def assembled(rows: Rows, readings: Readings, srm: Floats, terms: Terms) -> list[AnalysisResult]:
    """One ``AnalysisResult`` per row."""
    raw, pairs = rows.raw, rows.pairs
    side, level = terms.side, terms.level
    width = raw.mean.shape[1]
    count = width - 1
    flat = _Flat(~pairs.withheld.ravel())
    proportions = np.repeat([kind is StatisticsKind.PROPORTION for kind in rows.kinds], rows.sizes)
    clipped = np.repeat(proportions, count)[flat.read]
    defined = (raw.defined[:, :1] & raw.defined[:, 1:]).ravel()
    point_absolute, point_relative = _point_estimates(pairs, defined)
    value = readings.difference.value
    late = readings.sequential
    # The fixed and the sequential intervals share their point estimates (Fieller's relative
    # estimate does not depend on the critical value).
    fieller = readings.relative
    absolute_estimates = _estimates(flat, point_absolute, value)
    relative_estimates = _estimates(
        flat, point_relative, _or_none(fieller.shape != UNDEFINED, fieller.estimate)
    )
    absolute = _intervals(absolute_estimates, *_absolute(flat, value, readings.half_width, side))
    relative = _intervals(relative_estimates, *_relative(flat, fieller, side, clipped))
    late_half = late.critical * readings.difference.se
    late_absolute = _intervals(absolute_estimates, *_absolute(flat, value, late_half, side))
    late_relative = _intervals(relative_estimates, *_relative(flat, late.relative, side, clipped))
    sequential = list(
        map(
            build.sequential_result,
            flat.figures(late.p_value),
            late_absolute,
            late_relative,
            flat.figures(late.adjusted < level, False),
            flat.figures(late.adjusted),
        )
    )
    p_values = flat.figures(readings.p_value)
    # A family of one: the adjusted p-values are the p-values (the same array).
    same = readings.p_adjusted is readings.p_value
    p_adjusted = p_values if same else flat.figures(readings.p_adjusted)
    codes = pairs.reason.ravel().copy()
    relative_codes = _RELATIVE_REASONS[readings.relative.shape]
    codes[flat.read] = np.where(codes[flat.read] != 0, codes[flat.read], relative_codes)
    keys = np.empty(len(rows.keys), dtype=object)
    keys[:] = rows.keys
    keys = keys.reshape((-1, width))
    comparisons = list(
        map(
            build.comparison,
            keys[:, 1:].ravel().tolist(),
            np.repeat(keys[:, 0], count).tolist(),
            absolute,
            relative,
            p_values,
            p_adjusted,
            flat.figures(readings.p_adjusted < level, False),
            sequential,
            _bayesian(flat, readings.bayesian),
            map(_ALL_REASONS.__getitem__, codes.tolist()),
            _cuped(rows, count),
        )
    )
    srm_values = srm.tolist()
    return list(
        map(
            build.analysis_result,
            chain.from_iterable(map(repeat, rows.kinds, rows.sizes)),
            repeat(level),
            _summaries(rows),
            map(build.srm_result, srm_values, (srm < SRM_THRESHOLD).tolist()),
            zip(*[iter(comparisons)] * count, strict=True),
        )
    )


def _bayesian(flat: _Flat, bayes: Bayesian) -> list[BayesianResult]:
    """The Bayesian readings of every comparison (undefined where withheld, or not believed)."""
    believed = bayes.defined
    chance = _or_none(believed, bayes.chance)
    loss = _or_none(believed, bayes.loss)
    if flat.every and believed.all():
        return list(map(build.bayesian_result, chance.tolist(), loss.tolist()))
    readings = np.full(flat.read.shape, _NO_BAYESIAN, dtype=object)
    kept = np.flatnonzero(flat.read)[believed]
    built = np.empty(len(kept), dtype=object)
    built[:] = list(map(build.bayesian_result, chance[believed].tolist(), loss[believed].tolist()))
    readings[kept] = built
    result: list[BayesianResult] = readings.tolist()
    return result


def _cuped(rows: Rows, count: int) -> Iterator[CupedResult | None]:
    """Each comparison's CUPED figure, None in the parts without."""
    reductions = rows.reductions.reshape(-1)
    first = 0
    for size, with_cuped in zip(rows.sizes, rows.cuped, strict=True):
        end = first + size * count
        if with_cuped:
            yield from map(build.cuped_result, reductions[first:end].tolist())
        else:
            yield from repeat(None, size * count)
        first = end
