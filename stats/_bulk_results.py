"""The result objects of ``stats.bulk``: the same ``AnalysisResult`` values ``analyze_stats``
builds, made column by column from the arrays of a group of analyses.

Comparisons are flat here, analysis after analysis (row-major over the (analysis, comparison)
arrays); the readings cover those with a reading (``read``), in the same order. A figure that
is ``None`` in a result is ``None`` in its column (an object array).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain, repeat, starmap
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
from stats.results import AnalysisResult
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
_REASON_OBJECTS = np.array(_ALL_REASONS, dtype=object)


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


def _estimates(
    flat: _Flat, rows: Rows, value: Floats, relative: npt.NDArray[Any]
) -> tuple[list[Any], list[Any]]:
    """The absolute and relative point estimates: the readings' (``value``, ``relative``) where
    the comparison is read, ``stats.analysis._withheld``'s elsewhere (the same float objects in
    the fixed and the sequential intervals)."""
    if flat.every:
        return value.tolist(), relative.tolist()
    pairs, defined = rows.pairs, rows.raw.defined
    absolute_withheld, relative_withheld = _point_estimates(
        pairs, (defined[:, :1] & defined[:, 1:]).ravel(), ~flat.read
    )
    absolute = np.empty(flat.read.shape, dtype=object)
    absolute[flat.read] = value
    absolute[~flat.read] = absolute_withheld
    relatives = np.empty(flat.read.shape, dtype=object)
    relatives[flat.read] = relative
    relatives[~flat.read] = relative_withheld
    return absolute.tolist(), relatives.tolist()


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
    for block in rows.blocks:
        arms = slice(block.rows.start * width, block.rows.stop * width)
        if block.kind is StatisticsKind.PROPORTION:
            spread += repeat(None, arms.stop - arms.start)
            rules += repeat(None, arms.stop - arms.start)
        else:
            units, rule = _units(rows.given[arms], rows.units[block.rows].ravel())
            spread += units
            rules += rule
    return means, spread, rules


def _units(given: Sequence[int | None], kish: Floats) -> tuple[Sequence[Any], Iterable[str]]:
    """The effective units and their rules of arms of a mean or a ratio: ``nonzero_units`` as
    ``given``, else Kish's count (``kish``)."""
    missing = given.count(None)
    if missing == len(given):
        return kish.tolist(), repeat(UnitsRule.KISH.value, missing)
    if not missing:
        return given, repeat(UnitsRule.NONZERO_UNITS.value, len(given))
    read = np.fromiter(map(is_not, given, repeat(None)), np.bool_, len(given))
    units: list[Any] = np.where(read, np.array(given, dtype=object), kish).tolist()
    return units, _RULES[read.view(np.int8)].tolist()


def assembled(rows: Rows, readings: Readings, srm: Floats, terms: Terms) -> list[AnalysisResult]:
    """One ``AnalysisResult`` per row."""
    width = rows.raw.mean.shape[1]
    kinds = chain.from_iterable(
        repeat(block.kind, block.rows.stop - block.rows.start) for block in rows.blocks
    )
    means, spread, rules = _summary_columns(rows)
    srm_values, mismatch = srm.tolist(), (srm < SRM_THRESHOLD).tolist()
    figures = _comparison_figures(rows, readings, terms)
    if width == 2:
        keys, counts = rows.keys, rows.counts
        # ``starmap`` over a ``zip``: ``map`` of a function of more than five arguments
        # allocates their array on every call.
        return list(
            starmap(
                objects.two_arms,
                zip(
                    kinds,
                    repeat(terms.level),
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
                    *figures,
                ),
            )
        )
    comparisons = map(objects.comparison, *_comparison_keys(rows.keys, width), *figures)
    summaries = map(objects.variant_summary, rows.keys, rows.counts, means, spread, rules)
    return list(
        map(
            objects.analysis,
            kinds,
            repeat(terms.level),
            zip(*[iter(summaries)] * width, strict=True),
            srm_values,
            mismatch,
            zip(*[iter(comparisons)] * (width - 1), strict=True),
        )
    )


def _comparison_figures(rows: Rows, readings: Readings, terms: Terms) -> list[Iterable[Any]]:
    """The figures of every comparison, flat, one column per argument of
    ``stats._bulk_objects.comparison`` after the keys."""
    pairs = rows.pairs
    side, level = terms.side, terms.level
    flat = _Flat(~pairs.withheld.ravel())
    rates = rows.blocks[0]  # the proportions come first
    clipped = np.zeros(pairs.withheld.shape, dtype=np.bool_)
    if rates.kind is StatisticsKind.PROPORTION:
        clipped[rates.rows] = True
    clipped = clipped.ravel()[flat.read]
    value = readings.difference.value
    late = readings.sequential
    # The fixed and the sequential intervals share their point estimates (Fieller's relative
    # estimate does not depend on the critical value).
    fieller = readings.relative
    estimates = _estimates(flat, rows, value, _kept(fieller.shape != UNDEFINED, fieller.estimate))
    p_values = flat.figures(readings.p_value)
    # A family of one: the adjusted p-values are the p-values (the same array), and the
    # sequential ones bit for bit (the same float objects then, as the point estimates).
    same = readings.p_adjusted is readings.p_value
    late_p_values = flat.figures(late.p_value)
    late_adjusted = late_p_values
    if not np.array_equal(late.adjusted.view(np.int64), late.p_value.view(np.int64)):
        late_adjusted = flat.figures(late.adjusted)
    estimate, relative_estimate = estimates
    return [
        objects.intervals(estimate, *_absolute(flat, value, readings.half_width, side)),
        objects.intervals(relative_estimate, *_relative(flat, fieller, side, clipped)),
        p_values,
        p_values if same else flat.figures(readings.p_adjusted),
        flat.figures(readings.p_adjusted < level, False),
        late_p_values,
        objects.intervals(
            estimate, *_absolute(flat, value, late.critical * readings.difference.se, side)
        ),
        objects.intervals(relative_estimate, *_relative(flat, late.relative, side, clipped)),
        flat.figures(late.adjusted < level, False),
        late_adjusted,
        *_bayesian(flat, readings.bayesian),
        _reasons(flat, pairs, fieller),
        _cuped(rows),
    ]


def _reasons(flat: _Flat, pairs: Pairs, relative: Relative) -> Iterable[Reason | None]:
    """Each comparison's reason: its pair's, else its relative interval's."""
    codes = pairs.reason.ravel().copy()
    relative_codes = _RELATIVE_REASONS[relative.shape]
    codes[flat.read] = np.where(codes[flat.read] != 0, codes[flat.read], relative_codes)
    if not codes.any():
        return repeat(None, len(codes))
    reasons: list[Reason | None] = _REASON_OBJECTS[codes].tolist()
    return reasons


def _comparison_keys(keys: Sequence[str], width: int) -> tuple[list[str], list[str]]:
    """Each comparison's variant and baseline (the control), of the arms' ``keys`` (flat)."""
    table = np.empty(len(keys), dtype=object)
    table[:] = keys
    table = table.reshape((-1, width))
    return table[:, 1:].ravel().tolist(), np.repeat(table[:, 0], width - 1).tolist()


def _bayesian(flat: _Flat, bayes: Bayesian) -> tuple[list[Any], list[Any]]:
    """The chance to beat and the expected loss of every comparison (None where withheld, or
    not believed)."""
    believed = bayes.defined
    return flat.figures(_kept(believed, bayes.chance)), flat.figures(_kept(believed, bayes.loss))


def _cuped(rows: Rows) -> list[float | None]:
    """Each comparison's variance reduction, None in the rows without CUPED sums."""
    count = rows.reductions.shape[1]
    found: list[float | None] = []
    for block in rows.blocks:
        found += repeat(None, (block.cuped.start - block.rows.start) * count)
        found += rows.reductions[block.cuped].ravel().tolist()
    return found
