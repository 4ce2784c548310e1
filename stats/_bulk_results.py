"""The result objects of ``stats.bulk``: the same ``AnalysisResult`` values ``analyze_stats``
builds, made column by column from the arrays of a group of analyses.

Comparisons are flat here, analysis after analysis (row-major over the (analysis, comparison)
arrays); the readings cover those with a reading (``read``), in the same order. A figure that
is ``None`` in a result is ``None`` in its column (an object array).
"""

from __future__ import annotations

from itertools import chain, repeat
from operator import is_not
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from stats import _bulk_objects as objects
from stats._bulk_pairs import REASONS, Pairs
from stats._bulk_readings import BOUNDED, UNDEFINED, Bayesian, Difference, Relative, Sequential
from stats._bulk_rows import Rows
from stats._vector import Flags, Floats
from stats.gates import UnitsRule
from stats.results import AnalysisResult, Comparison
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


def _kept(kept: Flags, values: Floats) -> npt.NDArray[Any]:
    """``_or_none(kept, values)`` for a column or a list, ``values`` themselves when every one
    is kept (the usual case: no object array to make)."""
    return values if kept.all() else _or_none(kept, values)


def _estimates(flat: _Flat, withheld: Objects, read: npt.NDArray[Any]) -> list[Any]:
    """The point estimates: ``read`` where the comparison is read, ``withheld`` (of the others,
    in order) elsewhere (the same float objects in the fixed and the sequential intervals)."""
    if flat.every:
        every: list[Any] = read.tolist()
        return every
    estimate = np.empty(flat.read.shape, dtype=object)
    estimate[flat.read] = read
    estimate[~flat.read] = withheld
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
    return (
        flat.figures(_kept(bounded & keeps_low, low)),
        flat.figures(_kept(bounded & keeps_high, high)),
    )


def _point_estimates(pairs: Pairs, defined: Flags, withheld: Flags) -> tuple[Objects, Objects]:
    """``stats.analysis._withheld``'s absolute and relative estimates of the ``withheld``
    comparisons (None where undefined)."""
    control = pairs.control.mean.ravel()[withheld]
    treatment = pairs.treatment.mean.ravel()[withheld]
    defined = defined[withheld]
    with np.errstate(all="ignore"):
        absolute = _or_none(defined, treatment - control)
        relative = _or_none(defined & (control != 0), treatment / control - 1.0)
    return absolute, relative


def _summary_columns(rows: Rows) -> tuple[list[Any], list[Any], list[Any]]:
    """``stats.analysis._summary``'s means, effective units and their rules of every arm, flat
    (a proportion's without the units its spread was read from)."""
    width = rows.raw.mean.shape[1]
    means = _kept(rows.raw.defined, rows.raw.mean).ravel().tolist()
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
    return means, spread, rules


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
    point_absolute, point_relative = _point_estimates(pairs, defined, ~flat.read)
    value = readings.difference.value
    late = readings.sequential
    # The fixed and the sequential intervals share their point estimates (Fieller's relative
    # estimate does not depend on the critical value).
    fieller = readings.relative
    p_values = flat.figures(readings.p_value)
    # A family of one: the adjusted p-values are the p-values (the same array).
    same = readings.p_adjusted is readings.p_value
    codes = pairs.reason.ravel().copy()
    relative_codes = _RELATIVE_REASONS[readings.relative.shape]
    codes[flat.read] = np.where(codes[flat.read] != 0, codes[flat.read], relative_codes)
    variants, baselines = _comparison_keys(rows.keys, width)
    comparisons = list(
        map(
            objects.comparison,
            variants,
            baselines,
            _estimates(flat, point_absolute, value),
            _estimates(flat, point_relative, _kept(fieller.shape != UNDEFINED, fieller.estimate)),
            *_absolute(flat, value, readings.half_width, side),
            *_relative(flat, fieller, side, clipped),
            p_values,
            p_values if same else flat.figures(readings.p_adjusted),
            flat.figures(readings.p_adjusted < level, False),
            flat.figures(late.p_value),
            *_absolute(flat, value, late.critical * readings.difference.se, side),
            *_relative(flat, late.relative, side, clipped),
            flat.figures(late.adjusted < level, False),
            flat.figures(late.adjusted),
            *_bayesian(flat, readings.bayesian),
            map(_ALL_REASONS.__getitem__, codes.tolist()),
            _cuped(rows, count),
        )
    )
    return _analyses(rows, comparisons, srm, level)


def _comparison_keys(keys: list[str], width: int) -> tuple[list[str], list[str]]:
    """Each comparison's variant and baseline (the control), of the arms' ``keys`` (flat)."""
    if width == 2:
        return keys[1::2], keys[0::2]
    table = np.empty(len(keys), dtype=object)
    table[:] = keys
    table = table.reshape((-1, width))
    return table[:, 1:].ravel().tolist(), np.repeat(table[:, 0], width - 1).tolist()


def _analyses(
    rows: Rows, comparisons: list[Comparison], srm: Floats, level: float
) -> list[AnalysisResult]:
    """The rows' results, of their ``comparisons`` (flat, row after row)."""
    width = rows.raw.mean.shape[1]
    kinds = chain.from_iterable(map(repeat, rows.kinds, rows.sizes))
    means, spread, rules = _summary_columns(rows)
    srm_values, mismatch = srm.tolist(), (srm < SRM_THRESHOLD).tolist()
    if width == 2:
        keys, counts = rows.keys, rows.counts
        return list(
            map(
                objects.two_arms,
                kinds,
                repeat(level),
                keys[0::2],
                keys[1::2],
                counts[0::2],
                counts[1::2],
                means[0::2],
                means[1::2],
                spread[0::2],
                spread[1::2],
                rules[0::2],
                rules[1::2],
                srm_values,
                mismatch,
                comparisons,
            )
        )
    summaries = map(objects.variant_summary, rows.keys, rows.counts, means, spread, rules)
    return list(
        map(
            objects.analysis,
            kinds,
            repeat(level),
            zip(*[iter(summaries)] * width, strict=True),
            srm_values,
            mismatch,
            zip(*[iter(comparisons)] * (width - 1), strict=True),
        )
    )


def _bayesian(flat: _Flat, bayes: Bayesian) -> tuple[list[Any], list[Any]]:
    """The chance to beat and the expected loss of every comparison (None where withheld, or
    not believed)."""
    believed = bayes.defined
    return flat.figures(_kept(believed, bayes.chance)), flat.figures(_kept(believed, bayes.loss))


def _cuped(rows: Rows, count: int) -> list[float | None]:
    """Each comparison's variance reduction, None in the parts without CUPED."""
    reductions = rows.reductions.reshape(-1)
    found: list[float | None] = []
    first = 0
    for size, with_cuped in zip(rows.sizes, rows.cuped, strict=True):
        end = first + size * count
        found += reductions[first:end].tolist() if with_cuped else repeat(None, size * count)
        first = end
    return found
