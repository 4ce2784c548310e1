"""The rules sufficient statistics must meet, for typed inputs and for parsed requests alike.

``check_inputs`` checks typed ``VariantInput`` values (what the results pipeline hands over);
``stats.validation`` parses request-shaped mappings and applies the same rules as it goes, so
an error names the same field (``variants[1].conversions``) either way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from stats.errors import StatsInputError
from stats.types import (
    STATISTIC_FIELDS,
    CovariateStats,
    MeanStats,
    MetricStats,
    ProportionStats,
    RatioStats,
    StatisticsKind,
    VariantInput,
)

# Relative slack for "sum of squares below sum^2/n": float sums from a database
# carry rounding error, so only a clearly negative variance is refused.
_VARIANCE_TOLERANCE = 1e-9
_KINDS: dict[type[Any], StatisticsKind] = {
    ProportionStats: StatisticsKind.PROPORTION,
    MeanStats: StatisticsKind.MEAN,
    RatioStats: StatisticsKind.RATIO,
}
COVARIATE_FIELDS = ("covariate_sum", "covariate_sum_squares", "covariate_cross_sum")
# A ratio's optional second covariate, its pre-exposure denominator (``CovariateStats``).
PRE_DENOMINATOR_FIELDS = (
    "pre_denominator_sum",
    "pre_denominator_sum_squares",
    "pre_denominator_cross_sum",
    "pre_denominator_denominator_cross_sum",
    "covariate_pre_denominator_cross_sum",
)


def check_units(n: int, path: str) -> None:
    if n < 2:
        raise StatsInputError(f"{path}.n", f"{path}.n must be >= 2 units")


def check_variance(n: int, total: float, squares: float, field: str) -> None:
    if squares < 0:
        raise StatsInputError(field, f"{field} must be >= 0")
    centred = squares - total * total / n
    if centred < -_VARIANCE_TOLERANCE * max(squares, 1.0):
        raise StatsInputError(
            field, f"{field} implies a negative variance: it must be >= sum^2 / n"
        )


def check_covariance(
    n: int, sums: tuple[float, float, float, float], cross: float, field: str
) -> None:
    """Refuse a cross sum whose implied correlation is beyond +-1."""
    sum_x, squares_x, sum_y, squares_y = sums
    var_x = max(squares_x - sum_x * sum_x / n, 0.0)
    var_y = max(squares_y - sum_y * sum_y / n, 0.0)
    covariance = cross - sum_x * sum_y / n
    bound = math.sqrt(var_x * var_y)
    if abs(covariance) > bound + _VARIANCE_TOLERANCE * max(abs(cross), bound, 1.0):
        raise StatsInputError(
            field, f"{field} implies a correlation beyond +-1 with the other sums"
        )


def _proportion(stats: ProportionStats, path: str) -> None:
    if stats.conversions > stats.n:
        raise StatsInputError(f"{path}.conversions", f"{path}.conversions must be <= n")


def _mean(stats: MeanStats, path: str) -> None:
    check_variance(stats.n, stats.sum, stats.sum_squares, f"{path}.sum_squares")


def _ratio(stats: RatioStats, path: str) -> None:
    n, num, num_sq = stats.n, stats.numerator_sum, stats.numerator_sum_squares
    den, den_sq = stats.denominator_sum, stats.denominator_sum_squares
    check_variance(n, num, num_sq, f"{path}.numerator_sum_squares")
    check_variance(n, den, den_sq, f"{path}.denominator_sum_squares")
    check_covariance(n, (num, num_sq, den, den_sq), stats.cross_sum, f"{path}.cross_sum")


_STATISTICS: dict[type[Any], Callable[[Any, str], None]] = {
    ProportionStats: _proportion,
    MeanStats: _mean,
    RatioStats: _ratio,
}


def check_statistics(stats: MetricStats, path: str) -> None:
    """The rules of the kind's sums (``stats.types``), after ``n`` was checked."""
    _STATISTICS[type(stats)](stats, path)


def check_covariate(covariate: CovariateStats, stats: MetricStats, path: str) -> None:
    """A CUPED covariate's variance, and its correlation with the numerator (and, for a ratio,
    the denominator) within +-1."""
    total, squares = covariate.covariate_sum, covariate.covariate_sum_squares
    check_variance(stats.n, total, squares, f"{path}.covariate_sum_squares")
    field = f"{path}.covariate_cross_sum"
    if not isinstance(stats, RatioStats):
        check_covariance(
            stats.n,
            (stats.total, stats.sum_squares, total, squares),
            covariate.covariate_cross_sum,
            field,
        )
        return
    numerator = (stats.numerator_sum, stats.numerator_sum_squares, total, squares)
    check_covariance(stats.n, numerator, covariate.covariate_cross_sum, field)
    denominator = (stats.denominator_sum, stats.denominator_sum_squares, total, squares)
    check_covariance(
        stats.n,
        denominator,
        covariate.covariate_denominator_cross_sum,
        f"{path}.covariate_denominator_cross_sum",
    )
    _check_pre_denominator(covariate, stats, path)


def _check_pre_denominator(covariate: CovariateStats, stats: RatioStats, path: str) -> None:
    """The second covariate's variance, and its correlations with the numerator, the
    denominator and the first covariate within +-1."""
    total, squares = covariate.pre_denominator_sum, covariate.pre_denominator_sum_squares
    check_variance(stats.n, total, squares, f"{path}.pre_denominator_sum_squares")
    pairs = (
        ("pre_denominator_cross_sum", stats.numerator_sum, stats.numerator_sum_squares),
        ("pre_denominator_denominator_cross_sum", stats.denominator_sum,
         stats.denominator_sum_squares),
        ("covariate_pre_denominator_cross_sum", covariate.covariate_sum,
         covariate.covariate_sum_squares),
    )  # fmt: skip
    for name, other, other_squares in pairs:
        cross = getattr(covariate, name)
        check_covariance(stats.n, (other, other_squares, total, squares), cross, f"{path}.{name}")


def check_nonzero_units(count: int, stats: MetricStats, path: str) -> None:
    field = f"{path}.nonzero_units"
    if isinstance(stats, ProportionStats):
        raise StatsInputError(field, f"{field} is not a field of kind proportion")
    if count > stats.n:
        raise StatsInputError(field, f"{field} must be <= n")


def check_consistency(parsed: Sequence[VariantInput]) -> None:
    """Distinct keys, and a covariate in every variant or in none."""
    # The usual input passes both checks; look closer only when one fails.
    if len(parsed) == 2:
        first, second = parsed
        if first.key != second.key and (first.covariate is None) == (second.covariate is None):
            return
    elif len({variant.key for variant in parsed}) == len(parsed) and (
        len({variant.covariate is None for variant in parsed}) == 1
    ):
        return
    seen: set[str] = set()
    for index, variant in enumerate(parsed):
        if variant.key in seen:
            raise StatsInputError(
                f"variants[{index}].key", f"variants[{index}].key duplicates {variant.key!r}"
            )
        seen.add(variant.key)
    with_covariate = [variant.covariate is not None for variant in parsed]
    if any(with_covariate) and not all(with_covariate):
        index = with_covariate.index(False)
        raise StatsInputError(
            f"variants[{index}].covariate_sum",
            f"variants[{index}].covariate_sum is required: CUPED needs the covariate in every "
            "variant or in none",
        )


def check_inputs(variants: Sequence[VariantInput]) -> StatisticsKind:
    """Check typed variants (first = control) by the rules of ``stats.types``; their kind.

    Raises ``StatsInputError`` naming the field as a request would (``variants[1].n``).
    """
    if len(variants) < 2:
        raise StatsInputError("variants", "variants must hold at least two variants")
    kind = _KINDS[type(variants[0].stats)]
    for index, variant in enumerate(variants):
        path = f"variants[{index}]"
        if _KINDS[type(variant.stats)] is not kind:
            raise StatsInputError(path, f"{path} must hold sums of kind {kind.value}")
        _check_finite(variant, kind, path)
        check_units(variant.stats.n, path)
        check_statistics(variant.stats, path)
        if variant.covariate is not None:
            check_covariate(variant.covariate, variant.stats, path)
        if variant.nonzero_units is not None:
            check_nonzero_units(variant.nonzero_units, variant.stats, path)
    check_consistency(variants)
    return kind


def _check_finite(variant: VariantInput, kind: StatisticsKind, path: str) -> None:
    values = [(name, getattr(variant.stats, name)) for name in STATISTIC_FIELDS[kind]]
    if variant.covariate is not None:
        names = (*COVARIATE_FIELDS, "covariate_denominator_cross_sum", *PRE_DENOMINATOR_FIELDS)
        values += [(name, getattr(variant.covariate, name)) for name in names]
    for name, value in values:
        if not math.isfinite(value):
            raise StatsInputError(f"{path}.{name}", f"{path}.{name} must be finite")
