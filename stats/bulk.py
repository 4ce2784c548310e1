"""``analyze_many``: many analyses at once (every level, metric and arm of a look), the same
results as ``analyze_stats`` one at a time, float for float.

Analyses with the same number of arms are read together on numpy arrays, one row per analysis
(each kind, and CUPED or not, has its own sums, estimates and gates: ``stats._bulk_rows``), each
formula with the scalar path's operations in the same order; the scalar ``math`` functions are
applied element by element, where numpy's own could differ in the last bit (``stats._vector``).
An analysis the arrays cannot hold exactly, or that breaks an input rule, is read by
``analyze_stats`` itself, so its error is the one it raises; so are a few analyses, where the
arrays' fixed cost outweighs them.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain, repeat
from operator import is_not, itemgetter, ne
from typing import Any

import numpy as np
import numpy.typing as npt

from stats._bulk_arms import MAX_ARMS, ArmSums, arm_sums
from stats._bulk_pairs import Side, sample_ratio_p_values
from stats._bulk_readings import (
    bayesian,
    critical_values,
    difference,
    fieller,
    sequential,
    welch_p_value,
)
from stats._bulk_results import Readings, Terms, assembled
from stats._bulk_rows import Part, joined, part
from stats._vector import py_min
from stats.analysis import analyze_stats
from stats.corrections import adjust
from stats.errors import StatsInputError
from stats.results import (
    AnalysisResult,
)
from stats.sequential import DEFAULT_PLANNED_UNITS_PER_VARIANT
from stats.types import (
    AnalysisOptions,
    Correction,
    CovariateStats,
    MeanStats,
    MetricStats,
    ProportionStats,
    RatioStats,
    StatisticsKind,
    VariantInput,
)
from stats.validation import (
    parse_alpha,
    parse_alternative,
    parse_correction,
    parse_minimums,
    parse_planned_units,
    parse_prior,
    parse_weights,
)

_KINDS = (
    (ProportionStats, StatisticsKind.PROPORTION),
    (MeanStats, StatisticsKind.MEAN),
    (RatioStats, StatisticsKind.RATIO),
)
_KIND_CODES: dict[type[Any], int] = {sums: code for code, (sums, _) in enumerate(_KINDS)}
_GROUPS = tuple((kind, with_cuped) for _, kind in _KINDS for with_cuped in (False, True))
"""The parts of a number of arms, each kind without and with CUPED: the part of an analysis
is 2 x its kind's code (``_KIND_CODES``), + 1 with CUPED."""
_DEFAULT_OPTIONS = AnalysisOptions()
SMALLEST_PART = 16
"""The fewest analyses of one kind, number of arms and CUPED or not read on arrays."""
VECTORISE_FROM = 32
"""The fewest analyses of one number of arms read on arrays (below, one at a time is faster)."""

Outcome = AnalysisResult | StatsInputError
"""An analysis's result, or the error ``analyze_stats`` raises for it."""


def analyze_many(
    analyses: Sequence[Sequence[VariantInput]],
    options: AnalysisOptions = _DEFAULT_OPTIONS,
    *,
    vectorise_from: int = VECTORISE_FROM,
) -> list[Outcome]:
    """``analyze_stats(variants, options)`` of each analysis, in order; an analysis with
    invalid input (or invalid ``options``) gives the ``StatsInputError`` it raises there
    instead of a result, so one bad analysis never stops the others.

    Where there are fewer than ``SMALLEST_PART`` (at most ``vectorise_from``) analyses of a kind
    (and number of arms, and CUPED or not), or fewer than ``vectorise_from`` with a number of
    arms, they are read one at a time, which is faster there: the arrays cost a fixed 100-300
    microseconds per kind and per number of arms (``benchmarks/bench_stats.py``)."""
    with _collection_paused():
        return _analyze_many(analyses, options, vectorise_from)


@contextmanager
def _collection_paused() -> Iterator[None]:
    """No cyclic garbage collection while the results are built: they are a few dozen
    objects per comparison, none garbage, and the collections their allocation sets off took
    a third of the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _analyze_many(
    analyses: Sequence[Sequence[VariantInput]], options: AnalysisOptions, vectorise_from: int
) -> list[Outcome]:
    outcomes: dict[int, Outcome] = {}
    widths = list(map(len, analyses))
    if widths and widths.count(widths[0]) == len(widths):
        by_width: dict[int, list[int]] = {widths[0]: list(range(len(widths)))}
    else:
        by_width = {}
        for index, width in enumerate(widths):
            by_width.setdefault(width, []).append(index)
    for width, members in by_width.items():
        group = analyses if len(members) == len(analyses) else [analyses[i] for i in members]
        if 2 <= width <= MAX_ARMS and len(members) >= vectorise_from:
            read = _read_width(width, group, options, vectorise_from)
        else:
            read = [_one(variants, options) for variants in group]
        outcomes.update(zip(members, read, strict=True))
    return list(map(outcomes.__getitem__, range(len(analyses))))


def _read_width(
    width: int,
    analyses: Sequence[Sequence[VariantInput]],
    options: AnalysisOptions,
    vectorise_from: int,
) -> list[Outcome]:
    """The analyses with ``width`` arms, in order: those of a kind (and CUPED or not) with at
    least ``SMALLEST_PART`` analyses on arrays, when there are ``vectorise_from`` such; the
    others one at a time."""
    arms = _Arms(list(chain.from_iterable(analyses)), width)
    codes = _codes(arms)
    smallest = min(SMALLEST_PART, vectorise_from)
    parts = [
        (code, members)
        for code in range(len(_GROUPS))
        if len(members := np.flatnonzero(codes == code)) >= smallest
    ]
    found: dict[int, Outcome] = {}
    if sum(len(members) for _, members in parts) >= vectorise_from:
        found = _read_parts(arms, parts, options)
    for index in sorted(set(range(len(analyses))) - found.keys()):
        found[index] = _one(analyses[index], options)
    return list(map(found.__getitem__, range(len(analyses))))


class _Arms:
    """The arms of analyses of ``width`` arms each, flat (arm after arm): their sums,
    covariates, keys and ``nonzero_units``; ``pick`` takes those of some analyses."""

    def __init__(self, arms: list[VariantInput], width: int) -> None:
        self.width = width
        # One pass over the arms (``VariantInput``'s fields in order): two fifths of four ``map``s.
        self.keys: Sequence[str]
        self.stats: Sequence[MetricStats]
        self.covariates: Sequence[CovariateStats | None]
        self.given: Sequence[int | None]
        self.keys, self.stats, self.covariates, self.given = zip(*arms, strict=True)

    def pick(self, members: npt.NDArray[np.int64]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
        """The arms of the analyses ``members`` (at least one) from a flat list."""
        picks = (members[:, None] * self.width + np.arange(self.width)).ravel().tolist()
        return itemgetter(*picks)


def _read_parts(
    arms: _Arms, parts: list[tuple[int, npt.NDArray[np.int64]]], options: AnalysisOptions
) -> dict[int, Outcome]:
    """The results of the parts' analyses on arrays (index of ``_GROUPS``, analyses), by
    analysis; none when an option is invalid, nor for the analyses the arrays cannot read."""
    try:
        terms = _terms(options, arms.width)
    except StatsInputError:
        return {}
    read: list[Part] = []
    order: list[int] = []
    for code, members in parts:
        kind, with_cuped = _GROUPS[code]
        sums = _sums(arms, kind, with_cuped, members)
        if not sums.readable.all():
            members = members[sums.readable]
            if not len(members):
                continue
            sums = _sums(arms, kind, with_cuped, members)
        read.append(part(arms.pick(members)(arms.keys), sums, terms.least))
        order += members.tolist()
    return dict(zip(order, _group(read, terms), strict=True)) if read else {}


def _sums(
    arms: _Arms, kind: StatisticsKind, with_cuped: bool, members: npt.NDArray[np.int64]
) -> ArmSums:
    pick = arms.pick(members)
    covariates = pick(arms.covariates) if with_cuped else None
    shape = (len(members), arms.width)
    return arm_sums(kind, shape, pick(arms.stats), covariates, pick(arms.given))


def _codes(arms: _Arms) -> npt.NDArray[np.int64]:
    """Per analysis: its index in ``_GROUPS``, or -1 to read it alone (arms of different
    kinds, a covariate in some arms only, or keys that repeat)."""
    count, width = len(arms.stats), arms.width
    kinds = np.fromiter(map(_KIND_CODES.get, map(type, arms.stats), repeat(-1)), np.int64, count)
    cuped = np.fromiter(map(is_not, arms.covariates, repeat(None)), np.int64, count)
    codes = (2 * kinds + cuped).reshape((-1, width))
    first = codes[:, 0]
    same = (codes == first[:, None]).all(axis=1) & (first >= 0)
    keys = arms.keys
    if width == 2:
        distinct = np.fromiter(map(ne, keys[0::2], keys[1::2]), np.bool_, len(first))
    else:
        unique = map(len, map(set, zip(*[iter(keys)] * width, strict=True)))
        distinct = np.fromiter(unique, np.int64, len(first)) == width
    result: npt.NDArray[np.int64] = np.where(same & distinct, first, -1)
    return result


def _one(variants: Sequence[VariantInput], options: AnalysisOptions) -> Outcome:
    try:
        return analyze_stats(variants, options)
    except StatsInputError as error:
        return error


def _terms(options: AnalysisOptions, arms: int) -> Terms:
    return Terms(
        parse_alpha(options.alpha),
        parse_alternative(options.alternative),
        parse_planned_units(options.planned_units_per_variant, DEFAULT_PLANNED_UNITS_PER_VARIANT),
        parse_prior(options.prior),
        parse_correction(options.correction),
        parse_minimums(options.minimums),
        parse_weights(options.weights, arms),
    )


def _group(parts: list[Part], terms: Terms) -> list[AnalysisResult]:
    """Every analysis of the parts (one number of arms), read on arrays."""
    rows = joined(parts)
    pairs = rows.pairs
    read = ~pairs.withheld
    control = Side(*(column[read] for column in pairs.control))
    treatment = Side(*(column[read] for column in pairs.treatment))
    count = read.shape[1]
    with np.errstate(all="ignore"):
        gap = difference(control, treatment)
        p_value = welch_p_value(gap, terms.side)
        p_adjusted: Any = p_value
        alpha = np.full_like(p_value, terms.level)
        if count > 1:
            p_adjusted = _family_adjusted(read, p_value, terms.correction)
            alpha = np.where(
                p_adjusted <= 0,
                terms.level / count,
                terms.level * py_min(p_value / p_adjusted, 1.0),
            )
        critical = critical_values(alpha, terms.side, gap.dof)
        readings = Readings(
            gap,
            p_value,
            p_adjusted,
            critical * gap.se,
            fieller(control, treatment, critical, terms.side),
            sequential(control, treatment, gap, (terms.level, terms.side, terms.planned, count)),
            bayesian(control, treatment, terms.prior, terms.side),
        )
        srm = sample_ratio_p_values(rows.raw.n, terms.weights)
        # The bounds overflow to inf where the scalar path's floats do (sums near the range).
        return assembled(rows, readings, srm, terms)


def _family_adjusted(read: Any, p_value: Any, correction: Correction) -> Any:
    """``stats.corrections.adjust`` of each analysis's p-values (None where withheld)."""
    rows: list[list[float | None]] = [[None] * read.shape[1] for _ in range(read.shape[0])]
    values = iter(p_value.tolist())
    for row, column in zip(*np.nonzero(read), strict=True):
        rows[row][column] = next(values)
    adjusted_rows = [adjust(row, correction) for row in rows]
    flat = [value for row, mask in zip(adjusted_rows, read.tolist(), strict=True)
            for value, kept in zip(row, mask, strict=True) if kept]  # fmt: skip
    return np.array(flat, dtype=np.float64)
