"""The arms of many analyses of one size as arrays: their sums and the input rules of
``stats.checks``.

Every array has one row per analysis and one column per arm (control first); the rows are
sorted by kind, and within a kind those with CUPED sums last (``Block``), so each kind's formula
runs on its rows' slice and the formulas every kind shares run once on every row (a numpy call
costs more than its work on a few hundred rows). Each formula is the scalar one with its
operations in the same order, so each element is the same float. An analysis the arrays cannot
hold exactly (counts beyond 2^48, sums that are not floats) or that breaks a rule is left to
``analyze_stats`` (``ArmSums.readable``).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from itertools import chain, repeat
from operator import attrgetter, is_, is_not
from typing import Any, NamedTuple

import numpy as np

from stats._vector import Flags, Floats, py_max, rows_all
from stats.types import CovariateStats, MetricStats, StatisticsKind

# Counts up to this are exact as floats, and so are their sums over up to 32 arms.
_EXACT_COUNT = 2.0**48
MAX_ARMS = 32
_TOLERANCE = 1e-9  # stats.checks._VARIANCE_TOLERANCE
KINDS = (StatisticsKind.PROPORTION, StatisticsKind.MEAN, StatisticsKind.RATIO)
"""The kinds, in the order of the rows."""
_SUMS: dict[StatisticsKind, tuple[str, ...]] = {
    StatisticsKind.PROPORTION: ("conversions",),
    StatisticsKind.MEAN: ("sum", "sum_squares"),
    StatisticsKind.RATIO: (
        "numerator_sum",
        "numerator_sum_squares",
        "denominator_sum",
        "denominator_sum_squares",
        "cross_sum",
    ),
}
"""The sums of a kind, read into ``ArmSums.total``, ``squares`` and ``denominator`` in this
order (a proportion's conversions into ``total`` and ``squares`` alike)."""
COVARIATE = (
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


_UNITS = attrgetter("n")
_GETTERS = {kind: attrgetter(*fields) for kind, fields in _SUMS.items()}
_COVARIATE_GETTER = attrgetter(*COVARIATE)


class Block(NamedTuple):
    """The rows of one kind (a slice of the sorted rows), and those of them with CUPED sums
    (the end of that slice, maybe empty)."""

    kind: StatisticsKind
    rows: slice
    cuped: slice


def blocks(sizes: Sequence[int]) -> tuple[Block, ...]:
    """The ``Block``s of rows sorted by kind and CUPED or not, of the numbers of rows of each
    (``sizes``: each kind's without, then with CUPED, in the order of ``KINDS``)."""
    found: list[Block] = []
    start = 0
    for kind, without, with_cuped in zip(KINDS, sizes[0::2], sizes[1::2], strict=True):
        stop = start + without + with_cuped
        if stop > start:
            found.append(Block(kind, slice(start, stop), slice(start + without, stop)))
        start = stop
    return tuple(found)


class ArmSums(NamedTuple):
    """The sums of a group's arms, (analyses, arms) each: ``total`` and ``squares`` are a
    proportion's conversions (the sums of its 0/1 values and of their squares), a mean's sums
    and a ratio's numerator's; ``denominator`` a ratio's denominator sums and cross sum,
    ``covariate`` the CUPED sums (``COVARIATE``; None without any CUPED row), 0 in the rows
    without them. ``counts`` and ``given`` are each arm's ``n`` and ``nonzero_units`` as given
    (Python values, flat, arm after arm)."""

    blocks: tuple[Block, ...]
    n: Floats
    total: Floats
    squares: Floats
    denominator: tuple[Floats, Floats, Floats]
    nonzero: Floats
    has_nonzero: Flags
    covariate: dict[str, Floats] | None
    readable: Flags
    """Per analysis: exact in the arrays and within the input rules."""
    counts: list[int]
    given: Sequence[int | None]

    def part(self, rows: slice, covariate: bool = False) -> ArmSums:
        """The sums of the ``rows`` (views), with their covariates' if ``covariate`` (else
        None)."""
        covariates = self.covariate if covariate else None
        denominator = self.denominator
        # ``tuple.__new__``: a named tuple's own ``_replace`` and ``__new__`` are Python code.
        return tuple.__new__(
            ArmSums,
            (
                self.blocks,
                self.n[rows],
                self.total[rows],
                self.squares[rows],
                (denominator[0][rows], denominator[1][rows], denominator[2][rows]),
                self.nonzero[rows],
                self.has_nonzero[rows],
                None if covariates is None else {k: v[rows] for k, v in covariates.items()},
                self.readable,
                self.counts,
                self.given,
            ),
        )


def arm_sums(
    rows: tuple[Block, ...],
    stats: Sequence[MetricStats],
    covariates: Sequence[CovariateStats | None],
    given: Sequence[int | None],
) -> ArmSums:
    """The arrays of the arms of the analyses of ``rows``, flat, arm after arm: their sums,
    ``nonzero_units`` and the CUPED ``covariates`` (of the rows with CUPED only, in order)."""
    count = len(stats)
    analyses = rows[-1].rows.stop
    shape = (analyses, count // analyses)
    counts = list(map(_UNITS, stats))
    n = _counts(counts, shape)
    exact = _exact_counts(counts, n)
    nonzero = zeros = np.zeros(shape)
    has_nonzero = np.zeros(shape, dtype=np.bool_)
    named = given.count(None) != count
    if named:
        nonzero = np.zeros(shape)
    # One kind: its sums are read as they are (the others stay 0); else each row's goes in.
    sums = [zeros] * 5 if len(rows) == 1 else [np.zeros(shape) for _ in range(5)]
    covariate: dict[str, Floats] | None = None
    read = 0  # the covariates read
    for block in rows:
        arms = slice(block.rows.start * shape[1], block.rows.stop * shape[1])
        exact[block.rows] &= _read(block.kind, stats[arms], sums, block.rows)
        if named:
            exact[block.rows] &= _nonzero_units(given[arms], nonzero, has_nonzero, block.rows)
        if block.cuped.stop > block.cuped.start:
            if covariate is None:
                covariate = {name: np.zeros(shape) for name in COVARIATE}
            arms = slice(read, read + (block.cuped.stop - block.cuped.start) * shape[1])
            exact[block.cuped] &= _read_covariates(covariates[arms], covariate, block.cuped)
            read = arms.stop
    result = ArmSums(
        rows, n, sums[0], sums[1], (sums[2], sums[3], sums[4]), nonzero, has_nonzero, covariate,
        exact, counts, given,
    )  # fmt: skip
    return result._replace(readable=exact & _within_rules(result))


def _read(kind: StatisticsKind, stats: Sequence[Any], into: list[Floats], rows: slice) -> Flags:
    """Reads the sums of the analyses ``rows`` of ``kind`` (their arms' ``stats``) into those
    rows of ``into`` (the ``ArmSums`` fields; when every row is of ``kind``, ``into`` takes the
    arrays read themselves); per analysis: exact."""
    width = into[0].shape[1]
    shape = (rows.stop - rows.start, width)
    fields = len(_SUMS[kind])
    if kind is StatisticsKind.PROPORTION:
        converted = list(map(_GETTERS[kind], stats))
        columns = [_counts(converted, shape)] * 2
        exact = _exact_counts(converted, columns[0])
    else:
        flat = list(chain.from_iterable(map(_GETTERS[kind], stats)))
        table = _floats(flat, (*shape, fields))
        columns = [table[:, :, index] for index in range(fields)]
        exact = rows_all(np.isfinite(table)) & _floats_by_analysis(flat, shape[0])
    every = shape[0] == len(into[0])
    for index, column in enumerate(columns):
        if every:
            into[index] = np.ascontiguousarray(column)
        else:
            into[index][rows] = column
    return exact


def _read_covariates(
    covariates: Sequence[CovariateStats | None], into: dict[str, Floats], rows: slice
) -> Flags:
    """Reads the covariates' sums of the analyses ``rows`` (CUPED: every arm has one) into
    those rows of ``into``; per analysis: read exactly, and finite."""
    flat = list(chain.from_iterable(map(_COVARIATE_GETTER, covariates)))
    width = next(iter(into.values())).shape[1]
    table = _floats(flat, (-1, width, len(COVARIATE)))
    for index, name in enumerate(COVARIATE):
        into[name][rows] = table[:, :, index]
    readable = rows_all(np.isfinite(table))
    return readable & _floats_by_analysis(flat, len(table))


def _nonzero_units(given: Sequence[int | None], into: Floats, named: Flags, rows: slice) -> Flags:
    """Reads the ``nonzero_units`` ``given`` of the analyses ``rows`` into those rows of
    ``into`` (0 where not given) and ``named`` (whether given); per analysis: every one a
    Python int small enough to be exact as a float."""
    missing = given.count(None)
    if missing == len(given):
        return np.ones(rows.stop - rows.start, dtype=np.bool_)
    shape = (rows.stop - rows.start, into.shape[1])
    units: Sequence[Any] = given
    if missing:
        named[rows] = np.frombuffer(bytes(map(is_not, given, repeat(None))), np.bool_).reshape(
            shape
        )
        units = [units or 0 for units in given]
    else:
        named[rows] = True
    into[rows] = _counts(units, shape)
    return _exact_counts(units, into[rows])


def _floats(values: Sequence[Any], shape: tuple[int, ...]) -> Floats:
    """``values`` (floats or ints, read as Python reads them) as a read-only array of
    ``shape``: ``struct`` reads one in a few dozen instructions, ``np.array`` in some hundreds
    (what else it takes, a string it parses, is read by ``np.array`` as before)."""
    try:
        packed = struct.pack(f"{len(values)}d", *values)
    except struct.error:
        return np.array(values, dtype=np.float64).reshape(shape)
    return np.frombuffer(packed).reshape(shape)


def _counts(values: Sequence[Any], shape: tuple[int, int]) -> Floats:
    """``_floats`` of counts: Python ints are packed as such (``struct`` reads an int as a
    float through a float object of its own), then made floats as Python makes them (exactly,
    below 2^53); anything else as ``_floats`` reads it."""
    try:
        packed = struct.pack(f"{len(values)}q", *values)
    except struct.error:
        return _floats(values, shape)
    return np.frombuffer(packed, np.int64).astype(np.float64).reshape(shape)


def _exact_counts(values: Sequence[Any], floats: Floats) -> Flags:
    """Per analysis: every count (``values``, flat; ``floats``, by analysis and arm) a Python
    int small enough to be exact as a float."""
    exact = rows_all(np.abs(floats) < _EXACT_COUNT)
    types = list(map(type, values))
    if types.count(int) != len(types):
        typed = np.fromiter(map(is_, types, repeat(int)), np.bool_, len(values))
        exact &= rows_all(typed.reshape(floats.shape))
    return exact


def _floats_by_analysis(values: list[object], analyses: int) -> Flags:
    """Per analysis: every one of its sums (``values``: analysis after analysis) a float."""
    types = list(map(type, values))
    if types.count(float) == len(types):
        return np.ones(analyses, dtype=np.bool_)
    typed = np.fromiter(map(is_, types, repeat(float)), np.bool_, len(values))
    return rows_all(typed.reshape((analyses, -1)))


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
    """Per analysis: every arm within the rules of ``stats.checks.check_inputs`` (its sums are
    finite: checked as they are read)."""
    n = arms.n
    with np.errstate(all="ignore"):
        ok = (n >= 2) & ~(arms.has_nonzero & (arms.nonzero > n))
        for block in arms.blocks:
            ok[block.rows] &= _kind_ok(block.kind, arms.part(block.rows))
            if block.cuped.stop > block.cuped.start:
                ok[block.cuped] &= _covariate_ok(block.kind, arms.part(block.cuped, covariate=True))
        return rows_all(ok)


def _kind_ok(kind: StatisticsKind, arms: ArmSums) -> Flags:
    """The rules of ``kind``'s sums, on its arms."""
    n, total, squares = arms.n, arms.total, arms.squares
    if kind is StatisticsKind.PROPORTION:
        ok: Flags = ~(total > n) & ~arms.has_nonzero
        return ok
    ok = _variance_ok(n, total, squares)
    if kind is StatisticsKind.MEAN:
        return ok
    denominator = arms.denominator[:2]
    ok &= _variance_ok(n, *denominator)
    return ok & _covariance_ok(n, (total, squares, *denominator), arms.denominator[2])


def _covariate_ok(kind: StatisticsKind, arms: ArmSums) -> Flags:
    """``stats.checks.check_covariate`` passes (its sums are finite: checked as they are
    read)."""
    covariate, n = arms.covariate or {}, arms.n
    first = (covariate["covariate_sum"], covariate["covariate_sum_squares"])
    ok = _variance_ok(n, *first)
    # A proportion's or a mean's sums, or a ratio's numerator's, against the covariate.
    metric = (arms.total, arms.squares)
    ok &= _covariance_ok(n, (*metric, *first), covariate["covariate_cross_sum"])
    if kind is not StatisticsKind.RATIO:
        return ok
    denominator = arms.denominator[:2]
    ok &= _covariance_ok(n, (*denominator, *first), covariate["covariate_denominator_cross_sum"])
    second = (covariate["pre_denominator_sum"], covariate["pre_denominator_sum_squares"])
    ok &= _variance_ok(n, *second)
    ok &= _covariance_ok(n, (*metric, *second), covariate["pre_denominator_cross_sum"])
    ok &= _covariance_ok(
        n, (*denominator, *second), covariate["pre_denominator_denominator_cross_sum"]
    )
    return ok & _covariance_ok(
        n, (*first, *second), covariate["covariate_pre_denominator_cross_sum"]
    )
