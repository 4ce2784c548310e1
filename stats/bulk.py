"""``analyze_many``: many analyses at once (every level, metric and arm of a look), the same
results as ``analyze_stats`` one at a time, float for float.

Analyses with the same number of arms are read together on numpy arrays, one row per analysis,
every kind and CUPED or not in the same arrays, sorted by kind (``stats._bulk_rows``: each
kind's formulas on its rows, the others on every row), each formula with the scalar path's
operations in the same order; the scalar ``math`` functions are applied element by element,
where numpy's own could differ in the last bit (``stats._vector``).
An analysis the arrays cannot hold exactly, or that breaks an input rule, is read by
``analyze_stats`` itself, so its error is the one it raises; so are a few analyses, where the
arrays' fixed cost outweighs them.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain, repeat
from operator import is_not, itemgetter, ne
from typing import Any

import numpy as np
import numpy.typing as npt

from stats._bulk_arms import KINDS, MAX_ARMS, ArmSums, arm_sums, blocks
from stats._bulk_pairs import Side, sample_ratio_p_values
from stats._bulk_readings import (
    bayesian,
    critical_values,
    difference,
    fieller,
    scaled,
    sequential,
    welch_p_value,
)
from stats._bulk_results import Readings, Terms, assembled
from stats._bulk_rows import Rows, read_rows
from stats._vector import Flags, py_min, rows_all
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
_KIND_CODES: dict[type[Any], int] = {sums: KINDS.index(kind) for sums, kind in _KINDS}
_NO_KIND = 100
"""The code of an arm whose sums are of no kind (``_KIND_CODES``)."""
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
    widths = list(map(len, analyses))
    if widths and widths.count(widths[0]) == len(widths):
        return _read_width(widths[0], analyses, options, vectorise_from)
    by_width: dict[int, list[int]] = {}
    for index, width in enumerate(widths):
        by_width.setdefault(width, []).append(index)
    outcomes: dict[int, Outcome] = {}
    for width, members in by_width.items():
        group = [analyses[i] for i in members]
        read = _read_width(width, group, options, vectorise_from)
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
    if not 2 <= width <= MAX_ARMS or len(analyses) < vectorise_from:
        return [_one(variants, options) for variants in analyses]
    arms = _Arms(list(chain.from_iterable(analyses)), width)
    codes = _codes(arms)
    sizes = np.bincount(codes + 1, minlength=len(_GROUPS) + 1)
    codes = np.where(sizes[codes + 1] < min(SMALLEST_PART, vectorise_from), -1, codes)
    members = np.flatnonzero(codes >= 0)
    if len(members) < vectorise_from:
        return [_one(variants, options) for variants in analyses]
    # By kind, and CUPED or not (``stats._bulk_arms.Block``).
    members = members[np.argsort(codes[members], kind="stable")]
    members, results = _read_members(arms, members, codes[members], options)
    found = np.empty(len(analyses), dtype=object)
    found[members] = np.fromiter(results, dtype=object, count=len(results))
    outcomes: list[Outcome] = found.tolist()
    if len(results) < len(analyses):
        alone = np.ones(len(analyses), dtype=np.bool_)
        alone[members] = False
        for index in np.flatnonzero(alone).tolist():
            outcomes[index] = _one(analyses[index], options)
    return outcomes


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

    def pick(self, members: npt.NDArray[np.int64]) -> Callable[[Sequence[Any]], Sequence[Any]]:
        """The arms of the analyses ``members`` (at least one), in their order, from a flat
        list."""
        every = len(members) * self.width == len(self.keys)
        if every and (members[1:] > members[:-1]).all():
            return _unchanged
        picks = (members[:, None] * self.width + np.arange(self.width)).ravel().tolist()
        return itemgetter(*picks)


def _unchanged(arms: Sequence[Any]) -> Sequence[Any]:
    return arms


def _read_members(
    arms: _Arms,
    members: npt.NDArray[np.int64],
    codes: npt.NDArray[np.int64],
    options: AnalysisOptions,
) -> tuple[npt.NDArray[np.int64], list[AnalysisResult]]:
    """The analyses ``members`` (sorted by ``codes``, their indices in ``_GROUPS``) the arrays
    read, and their results, in that order; none when an option is invalid."""
    try:
        terms = _terms(options, arms.width)
    except StatsInputError:
        return members[:0], []
    sums = _sums(arms, members, codes)
    if not sums.readable.all():
        members, codes = members[sums.readable], codes[sums.readable]
        if not len(members):
            return members, []
        sums = _sums(arms, members, codes)
    keys = arms.pick(members)(arms.keys)
    return members, _group(read_rows(keys, sums, terms.least), terms)


def _sums(arms: _Arms, members: npt.NDArray[np.int64], codes: npt.NDArray[np.int64]) -> ArmSums:
    """The sums of the analyses ``members`` (sorted by ``codes``): their arms' stats, the
    covariates of those with CUPED and the ``nonzero_units``, each taken once."""
    rows = blocks(np.bincount(codes, minlength=len(_GROUPS)).tolist())
    pick = arms.pick(members)
    cuped = members[codes % 2 == 1]
    covariates = arms.pick(cuped)(arms.covariates) if len(cuped) else ()
    given = arms.given
    if given.count(None) == len(given):  # no order to keep
        given = (None,) * (len(members) * arms.width)
    else:
        given = pick(given)
    return arm_sums(rows, pick(arms.stats), covariates, given)


def _codes(arms: _Arms) -> npt.NDArray[np.int64]:
    """Per analysis: its index in ``_GROUPS``, or -1 to read it alone (arms of different
    kinds, a covariate in some arms only, or keys that repeat)."""
    count, width = len(arms.stats), arms.width
    analyses = count // width
    types = list(map(type, arms.stats))
    firsts = types[0::width]
    # Per arm: with CUPED (``bytes`` of the small codes costs less than ``np.fromiter``).
    cuped = _bytes(map(is_not, arms.covariates, repeat(None)), count).reshape((-1, width))
    same = rows_all(cuped == cuped[:, :1])
    # The usual look: every arm of an analysis of its first arm's kind (a comparison of
    # lists, item by item in C), so the kinds are looked up once per analysis.
    if all(types[arm::width] == firsts for arm in range(1, width)):
        kinds = _bytes(map(_KIND_CODES.get, firsts, repeat(_NO_KIND)), analyses)
    else:
        by_arm = _bytes(map(_KIND_CODES.get, types, repeat(_NO_KIND)), count)
        by_arm = by_arm.reshape((-1, width))
        kinds = by_arm[:, 0]
        same &= rows_all(by_arm == kinds[:, None])
    first = 2 * kinds.astype(np.int64) + cuped[:, 0]
    valid = same & (kinds < _NO_KIND) & _distinct_keys(arms.keys, width)
    result: npt.NDArray[np.int64] = np.where(valid, first, -1)
    return result


def _distinct_keys(keys: Sequence[str], width: int) -> Flags:
    """Per analysis (``keys``: its arms', flat): no key repeats."""
    analyses = len(keys) // width
    firsts = keys[:width]
    distinct_first = firsts[0] != firsts[1] if width == 2 else len(set(firsts)) == width
    # The usual look: every analysis has the first one's keys, in its order (one count of
    # each arm's key, item by item in C).
    if distinct_first and all(
        keys[arm::width].count(key) == analyses for arm, key in enumerate(firsts)
    ):
        return np.ones(analyses, dtype=np.bool_)
    if width == 2:
        return np.fromiter(map(ne, keys[0::2], keys[1::2]), np.bool_, analyses)
    unique = map(len, map(set, zip(*[iter(keys)] * width, strict=True)))
    distinct: Flags = np.fromiter(unique, np.int64, analyses) == width
    return distinct


def _bytes(values: Iterable[int], count: int) -> npt.NDArray[np.uint8]:
    """``count`` small whole ``values`` (bools too) as an array of bytes."""
    found: npt.NDArray[np.uint8] = np.frombuffer(bytes(values), np.uint8, count)
    return found


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


def _group(rows: Rows, terms: Terms) -> list[AnalysisResult]:
    """Every analysis of the rows (one number of arms), read on arrays."""
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
        relative = scaled(control, treatment)
        late = (terms.level, terms.side, terms.planned, count)
        readings = Readings(
            gap,
            p_value,
            p_adjusted,
            critical * gap.se,
            fieller(relative, critical, terms.side),
            sequential(control, treatment, gap, late, relative),
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
