"""The arms of many analyses of one kind and size as arrays: their sums, the input rules of
``stats.checks`` and the estimates of ``stats.estimates`` and ``stats.cuped``.

Every array has one row per analysis and one column per arm (control first). Each formula is
the scalar one with its operations in the same order, so each element is the same float; an
analysis the arrays cannot hold exactly (counts beyond 2^48, sums that are not floats) or that
breaks a rule is left to ``analyze_stats`` (``ArmSums.readable``).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain, repeat
from operator import attrgetter, is_, is_not
from typing import NamedTuple

import numpy as np

from stats._vector import Flags, Floats, py_max, py_min
from stats.types import CovariateStats, MetricStats, StatisticsKind

# Counts up to this are exact as floats, and so are their sums over up to 32 arms.
_EXACT_COUNT = 2.0**48
MAX_ARMS = 32
_TOLERANCE = 1e-9  # stats.checks._VARIANCE_TOLERANCE
_SUMS: dict[StatisticsKind, tuple[str, ...]] = {
    StatisticsKind.PROPORTION: (),
    StatisticsKind.MEAN: ("sum", "sum_squares"),
    StatisticsKind.RATIO: (
        "numerator_sum",
        "numerator_sum_squares",
        "denominator_sum",
        "denominator_sum_squares",
        "cross_sum",
    ),
}
_COVARIATE = (
    "covariate_sum",
    "covariate_sum_squares",
    "covariate_cross_sum",
    "covariate_denominator_cross_sum",
    "pre_denominator_sum",
    "pre_denominator_sum_squares",
    "pre_denominator_cross_sum",
    "pre_denominator_denominator_cross_sum",
    "covariate_pre_denominator_cross_sum",
)


_UNITS, _CONVERSIONS = attrgetter("n"), attrgetter("conversions")
_GETTERS = {kind: attrgetter(*fields) for kind, fields in _SUMS.items() if fields}
_COVARIATE_GETTER = attrgetter(*_COVARIATE)


class ArmSums(NamedTuple):
    """The sums of a group's arms, (analyses, arms) each; ``sums`` and ``covariate`` hold one
    such array per field (``_SUMS`` of the kind, ``_COVARIATE``). ``counts`` and ``given`` are
    each arm's ``n`` and ``nonzero_units`` as given (Python values, flat, arm after arm)."""

    kind: StatisticsKind
    n: Floats
    conversions: Floats
    nonzero: Floats
    has_nonzero: Flags
    sums: dict[str, Floats]
    covariate: dict[str, Floats] | None
    readable: Flags
    """Per analysis: exact in the arrays and within the input rules."""
    counts: list[int]
    given: Sequence[int | None]


class Arms(NamedTuple):
    """Each arm's estimate (``stats.estimates.ArmEstimate``); ``mean`` is 0 where undefined."""

    mean: Floats
    defined: Flags
    variance: Floats
    n: Floats
    dof: Floats


def arm_sums(
    kind: StatisticsKind,
    shape: tuple[int, int],
    stats: Sequence[MetricStats],
    covariates: Sequence[CovariateStats] | None,
    given: Sequence[int | None],
) -> ArmSums:
    """The arrays of the arms of ``shape`` (analyses, arms) analyses of ``kind``, flat, arm
    after arm: their sums, CUPED covariates (None without) and ``nonzero_units``."""
    count = len(stats)
    counts = list(map(_UNITS, stats))
    n = _floats(counts, shape)
    exact = _exact_counts(counts, n)
    zeros = np.zeros(shape)
    conversions = nonzero = zeros
    proportion = kind is StatisticsKind.PROPORTION
    if proportion:
        converted = list(map(_CONVERSIONS, stats))
        conversions = _floats(converted, shape)
        exact &= _exact_counts(converted, conversions)
    has_nonzero = np.zeros(shape, dtype=np.bool_)
    if given.count(None) != count:
        has_nonzero = np.fromiter(map(is_not, given, repeat(None)), np.bool_, count).reshape(shape)
        units = [units or 0 for units in given]
        nonzero = _floats(units, shape)
        exact &= _exact_counts(units, nonzero)
    sums: dict[str, Floats] = {}
    if not proportion:
        fields = _SUMS[kind]
        flat = list(chain.from_iterable(map(_GETTERS[kind], stats)))
        exact &= _floats_by_analysis(flat, shape[0])
        table = np.array(flat, dtype=np.float64).reshape((*shape, len(fields)))
        sums = {name: table[:, :, index] for index, name in enumerate(fields)}
    table_covariate: dict[str, Floats] | None = None
    if covariates is not None:
        flat = list(chain.from_iterable(map(_COVARIATE_GETTER, covariates)))
        exact &= _floats_by_analysis(flat, shape[0])
        table = np.array(flat, dtype=np.float64).reshape((*shape, len(_COVARIATE)))
        table_covariate = {name: table[:, :, index] for index, name in enumerate(_COVARIATE)}
    result = ArmSums(
        kind,
        n,
        conversions,
        nonzero,
        has_nonzero,
        sums,
        table_covariate,
        exact,
        counts,
        given,
    )
    return result._replace(readable=exact & _within_rules(result))


def _floats(values: list[int], shape: tuple[int, int]) -> Floats:
    return np.array(values, dtype=np.float64).reshape(shape)


def _exact_counts(values: list[int], floats: Floats) -> Flags:
    """Per analysis: every count (``values``, flat; ``floats``, by analysis and arm) a Python
    int small enough to be exact as a float."""
    exact: Flags = np.asarray((np.abs(floats) < _EXACT_COUNT).all(axis=1))
    if set(map(type, values)) - {int}:
        typed = np.fromiter(map(is_, map(type, values), repeat(int)), np.bool_, len(values))
        exact &= typed.reshape(floats.shape).all(axis=1)
    return exact


def _floats_by_analysis(values: list[object], analyses: int) -> Flags:
    """Per analysis: every one of its sums (``values``: analysis after analysis) a float."""
    if not set(map(type, values)) - {float}:
        return np.ones(analyses, dtype=np.bool_)
    typed = np.array([type(value) is float for value in values]).reshape((analyses, -1))
    return np.asarray(typed.all(axis=1))


def _variance_ok(n: Floats, total: Floats, squares: Floats) -> Flags:
    """``stats.checks.check_variance`` passes."""
    centred = squares - total * total / n
    ok: Flags = ~(squares < 0) & ~(centred < -_TOLERANCE * py_max(squares, 1.0))
    return ok


def _covariance_ok(n: Floats, sums: tuple[Floats, Floats, Floats, Floats], cross: Floats) -> Flags:
    """``stats.checks.check_covariance`` passes."""
    sum_x, squares_x, sum_y, squares_y = sums
    var_x = py_max(squares_x - sum_x * sum_x / n, 0.0)
    var_y = py_max(squares_y - sum_y * sum_y / n, 0.0)
    covariance = cross - sum_x * sum_y / n
    bound = np.sqrt(var_x * var_y)
    slack = _TOLERANCE * py_max(py_max(np.abs(cross), bound), 1.0)
    ok: Flags = ~(np.abs(covariance) > bound + slack)
    return ok


def _within_rules(arms: ArmSums) -> Flags:
    """Per analysis: every arm within the rules of ``stats.checks.check_inputs``."""
    n, sums = arms.n, arms.sums
    with np.errstate(all="ignore"):
        ok = n >= 2
        ok &= np.isfinite(np.array(list(sums.values()))).all(axis=0) if sums else True
        if arms.kind is StatisticsKind.PROPORTION:
            ok &= ~(arms.conversions > n) & ~arms.has_nonzero
        elif arms.kind is StatisticsKind.MEAN:
            ok &= _variance_ok(n, sums["sum"], sums["sum_squares"])
        else:
            numerator = (sums["numerator_sum"], sums["numerator_sum_squares"])
            denominator = (sums["denominator_sum"], sums["denominator_sum_squares"])
            ok &= _variance_ok(n, *numerator) & _variance_ok(n, *denominator)
            ok &= _covariance_ok(n, (*numerator, *denominator), sums["cross_sum"])
        ok &= ~(arms.has_nonzero & (arms.nonzero > n))
        if arms.covariate is not None:
            ok &= _covariate_ok(arms)
        return np.asarray(np.asarray(ok).all(axis=1))


def _metric_sums(arms: ArmSums) -> tuple[Floats, Floats]:
    """A proportion's or a mean's (sum, sum of squares) of the per-unit values."""
    if arms.kind is StatisticsKind.PROPORTION:
        return arms.conversions, arms.conversions
    return arms.sums["sum"], arms.sums["sum_squares"]


def _covariate_ok(arms: ArmSums) -> Flags:
    """``stats.checks.check_covariate`` passes (after the finite check of every sum)."""
    covariate, n = arms.covariate or {}, arms.n
    ok: Flags = np.isfinite(np.array(list(covariate.values()))).all(axis=0)
    first = (covariate["covariate_sum"], covariate["covariate_sum_squares"])
    ok &= _variance_ok(n, *first)
    if arms.kind is not StatisticsKind.RATIO:
        metric = _metric_sums(arms)
        return ok & _covariance_ok(n, (*metric, *first), covariate["covariate_cross_sum"])
    sums = arms.sums
    numerator = (sums["numerator_sum"], sums["numerator_sum_squares"])
    denominator = (sums["denominator_sum"], sums["denominator_sum_squares"])
    ok &= _covariance_ok(n, (*numerator, *first), covariate["covariate_cross_sum"])
    ok &= _covariance_ok(n, (*denominator, *first), covariate["covariate_denominator_cross_sum"])
    second = (covariate["pre_denominator_sum"], covariate["pre_denominator_sum_squares"])
    ok &= _variance_ok(n, *second)
    ok &= _covariance_ok(n, (*numerator, *second), covariate["pre_denominator_cross_sum"])
    ok &= _covariance_ok(
        n, (*denominator, *second), covariate["pre_denominator_denominator_cross_sum"]
    )
    return ok & _covariance_ok(
        n, (*first, *second), covariate["covariate_pre_denominator_cross_sum"]
    )


def spread_units(arms: ArmSums) -> Floats:
    """``stats.gates.spread_units`` of every arm (``nonzero_units``, Kish's count or ``n``)."""
    if arms.kind is StatisticsKind.PROPORTION:
        return arms.n
    if arms.kind is StatisticsKind.MEAN:
        total, squares = np.abs(arms.sums["sum"]), arms.sums["sum_squares"]
    else:
        total = np.abs(arms.sums["denominator_sum"])
        squares = arms.sums["denominator_sum_squares"]
    with np.errstate(all="ignore"):
        kish = np.where(squares <= 0, arms.n, py_min((total / squares) * total, arms.n))
    kish = np.where(total == 0, 0.0, kish)
    units: Floats = np.where(arms.has_nonzero, arms.nonzero, kish)
    return units


def estimates(arms: ArmSums, units: Floats) -> Arms:
    """``stats.estimates.ESTIMATORS`` of every arm."""
    n = arms.n
    with np.errstate(all="ignore"):
        if arms.kind is StatisticsKind.PROPORTION:
            p = arms.conversions / n
            variance = p * (1.0 - p) * n / (n - 1) / n
            return Arms(p, np.ones_like(n, dtype=np.bool_), variance, n, n - 1)
        dof = py_max(units - 1.0, 0.0)
        if arms.kind is StatisticsKind.MEAN:
            total, squares = arms.sums["sum"], arms.sums["sum_squares"]
            variance = py_max(squares - total * total / n, 0.0) / (n - 1) / n
            return Arms(total / n, np.ones_like(n, dtype=np.bool_), variance, n, dof)
        mean, variance = ratio_mean_and_variance(arms)
        defined = arms.sums["denominator_sum"] / n != 0
        return Arms(
            np.where(defined, mean, 0.0), defined, np.where(defined, variance / n, 0.0), n, dof
        )


def ratio_mean_and_variance(arms: ArmSums) -> tuple[Floats, Floats]:
    """``RatioStats.mean`` and ``RatioStats.variance`` (per unit) where the denominator's mean
    is not 0 (elsewhere meaningless)."""
    sums, n = arms.sums, arms.n
    numerator, denominator = sums["numerator_sum"], sums["denominator_sum"]
    numerator_variance = py_max(sums["numerator_sum_squares"] - numerator * numerator / n, 0.0) / (
        n - 1
    )
    denominator_variance = py_max(
        sums["denominator_sum_squares"] - denominator * denominator / n, 0.0
    ) / (n - 1)
    covariance = (sums["cross_sum"] - numerator * denominator / n) / (n - 1)
    mean_denominator = denominator / n
    ratio = numerator / denominator
    linearised = (
        numerator_variance - 2.0 * ratio * covariance + ratio * ratio * denominator_variance
    )
    variance: Floats = py_max(linearised, 0.0) / mean_denominator / mean_denominator
    return ratio, variance
