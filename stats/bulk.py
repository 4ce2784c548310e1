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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import numpy as np

from stats._bulk_arms import MAX_ARMS, arm_sums
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
    MeanStats,
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

_KINDS: dict[type[Any], StatisticsKind] = {
    ProportionStats: StatisticsKind.PROPORTION,
    MeanStats: StatisticsKind.MEAN,
    RatioStats: StatisticsKind.RATIO,
}
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
    outcomes: list[Outcome | None] = [None] * len(analyses)
    keys = list(map(_group_key, analyses))
    kinds: dict[tuple[StatisticsKind, int, bool] | None, list[int]] = {}
    for index, key in enumerate(keys):
        kinds.setdefault(key, []).append(index)
    smallest = min(SMALLEST_PART, vectorise_from)
    groups: dict[int, list[tuple[tuple[StatisticsKind, int, bool], list[int]]]] = {}
    for key, members in kinds.items():
        if key is None or len(members) < smallest:
            for index in members:
                outcomes[index] = _one(analyses[index], options)
        else:
            groups.setdefault(key[1], []).append((key, members))
    for arms, parts in groups.items():
        members = [index for _, indexes in parts for index in indexes]
        if len(members) < vectorise_from:
            read = [_one(analyses[index], options) for index in members]
        else:
            read = _read_group(
                arms, [(key, [analyses[i] for i in indexes]) for key, indexes in parts], options
            )
        for index, outcome in zip(members, read, strict=True):
            outcomes[index] = outcome
    return cast(list[Outcome], outcomes)


def _read_group(
    arms: int,
    kinds: list[tuple[tuple[StatisticsKind, int, bool], list[Sequence[VariantInput]]]],
    options: AnalysisOptions,
) -> list[Outcome]:
    """The analyses with ``arms`` arms, in order of ``kinds``, on arrays (each kind and CUPED
    or not has its own estimates and gates, then all are read together); those the arrays cannot
    read, or all when an option is invalid, one at a time."""
    every = [variants for _, analyses in kinds for variants in analyses]
    try:
        terms = _terms(options, arms)
    except StatsInputError:
        return [_one(variants, options) for variants in every]
    outcomes: list[Outcome | None] = [None] * len(every)
    parts: list[Part] = []
    order: list[int] = []
    start = 0
    for (kind, _, with_cuped), analyses in kinds:
        sums = arm_sums(kind, analyses, with_cuped)
        readable = sums.readable.tolist()
        members = list(range(start, start + len(analyses)))
        start += len(analyses)
        if not all(readable):
            for index, ok in zip(members, readable, strict=True):
                outcomes[index] = None if ok else _one(every[index], options)
            members = [index for index, ok in zip(members, readable, strict=True) if ok]
            analyses = [every[index] for index in members]
            if not members:
                continue
            sums = arm_sums(kind, analyses, with_cuped)
        parts.append(part(analyses, sums, terms.least))
        order += members
    if parts:
        for index, result in zip(order, _group(parts, terms), strict=True):
            outcomes[index] = result
    return cast(list[Outcome], outcomes)


def _one(variants: Sequence[VariantInput], options: AnalysisOptions) -> Outcome:
    try:
        return analyze_stats(variants, options)
    except StatsInputError as error:
        return error


def _group_key(variants: Sequence[VariantInput]) -> tuple[StatisticsKind, int, bool] | None:
    """(kind, arms, CUPED) of an analysis the arrays can read; None to read it alone."""
    arms = len(variants)
    if not 2 <= arms <= MAX_ARMS:
        return None
    shapes = {(type(variant.stats), variant.covariate is None) for variant in variants}
    if len(shapes) != 1 or len({variant.key for variant in variants}) != arms:
        return None
    ((sums, without_cuped),) = shapes
    kind = _KINDS.get(sums)
    return None if kind is None else (kind, arms, not without_cuped)


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
