"""Quantile metrics (the median order value): per arm the quantile of the values, per comparison
the difference with the interval of Deng, Knoblich and Lu (2018, "Applying the Delta Method in
Metric Analytics", its quantile metrics; "DKY" here), the visitors as clusters.

A visitor may place several orders, so the values are not independent. The share of values at
or below the quantile, F = sum_i S_i / sum_i N_i (S_i: visitor i's values <= the quantile, N_i:
its values), is a ratio of sums over visitors; its delta-method variance is
sum_i (S_i - F N_i)^2 / (sum_i N_i)^2. The quantile's interval is then read off the order
statistics at the positions N (level -+ z sd(F)) (interpolated between the values at the whole
ranks around them), and its standard error is that interval's width
over 2 z (the density of the values enters through the order statistics, without a kernel). The
two arms are independent, so the difference is asymptotically normal with the sum of the
variances: a z-interval at a fixed horizon, and the engine's normal mixture (``stats.sequential``)
for the always-valid reading. The relative difference uses Fieller's interval, as for means.

Everything here reads ``QuantileSums``, which a database computes without sending per-visitor
data (``experiments.results.sums.quantiles``): the value count, the quantile, the clustered sums
of the indicator at the quantile and the ends interpolated between the order statistics at the
ranks ``dky_ranks`` gives.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

from stats.estimates import ArmEstimate
from stats.fixed import FixedReading, welch_test
from stats.results import SequentialResult
from stats.sequential import mixture_sprt
from stats.types import Alternative, Reason

DKY_Z = 1.959963984540054
"""The normal quantile that places the two order statistics (their ranks are level -+ z sd):
fixed at the 95 % value, so a stored look does not depend on the alpha it is read at."""
MINIMUM_VALUES = 50
"""Values per arm below which a quantile comparison is withheld (the minimum-data gate)."""


class IndicatorSums(NamedTuple):
    """Per-visitor sums of an arm at its quantile: S_i values at or below it, N_i values."""

    clusters: int
    """Visitors with at least one value."""
    values: int
    """sum N_i: every value of the arm."""
    below: float
    """sum S_i."""
    below_squares: float
    """sum S_i^2."""
    cross: float
    """sum S_i N_i."""
    value_squares: float
    """sum N_i^2."""


class QuantileSums(NamedTuple):
    """What a look stores per arm of a quantile metric (no per-visitor data)."""

    level: float
    units: int
    """Exposed visitors of the arm (they size the sequential mixture, as for other metrics)."""
    quantile: float | None
    """The order statistic at ``quantile_rank``; None without values."""
    lower: float | None
    """The lower end of the quantile's interval: the values interpolated at the lower DKY
    position (`dky_positions`)."""
    upper: float | None
    """The upper end, likewise."""
    indicator: IndicatorSums


RANK_SLACK = 1e-9
"""Taken off level N before rounding up, so a product a rounding error above a whole number
(0.07 x 100 = 7.000000000000001) still ranks at that number."""


def quantile_rank(level: float, values: int) -> int:
    """1-based rank of the quantile among ``values`` sorted values: ceil(level N), at least 1
    (the inverse of the empirical distribution function, so the median of 4 values is the 2nd)."""
    return min(max(math.ceil(level * values - RANK_SLACK), 1), values)


def indicator_sd(sums: IndicatorSums) -> float:
    """Standard deviation of the share of values at or below the quantile, clustered by visitor
    (delta method for the ratio sum S_i / sum N_i)."""
    if sums.values == 0:
        return 0.0
    share = sums.below / sums.values
    spread = sums.below_squares - 2.0 * share * sums.cross + share * share * sums.value_squares
    return math.sqrt(max(spread, 0.0)) / sums.values


def dky_positions(level: float, sums: IndicatorSums) -> tuple[float, float]:
    """Positions (1-based, fractional) among the sorted values of the two ends of the
    quantile's interval: N (level -+ z sd), within 1..N."""
    n = sums.values
    half = DKY_Z * indicator_sd(sums)
    low, high = n * (level - half), n * (level + half)
    return min(max(low, 1.0), float(n)), min(max(high, 1.0), float(n))


def dky_ranks(level: float, sums: IndicatorSums) -> tuple[int, ...]:
    """The ranks of the order statistics the interval's ends are interpolated between (the
    whole ranks on either side of each of `dky_positions`), in ascending order."""
    return tuple(
        sorted(
            {math.floor(p) for p in dky_positions(level, sums)}
            | {math.ceil(p) for p in dky_positions(level, sums)}
        )
    )


def at_position(position: float, value_at: Callable[[int], float]) -> float:
    """The value at a fractional `position`, linear between the order statistics at the whole
    ranks around it (`value_at(rank)`): the interval's ends then move smoothly with the spread,
    instead of jumping to the next whole rank outwards: with whole ranks the median's interval
    covered 96.6 % at 50 orders per arm, interpolated 95.6 % (`benchmarks/sim_quantiles.py`)."""
    below, above = math.floor(position), math.ceil(position)
    if below == above:
        return value_at(below)
    share = position - below
    return value_at(below) * (1.0 - share) + value_at(above) * share


def summarize(level: float, units: int, clusters: Sequence[Sequence[float]]) -> QuantileSums:
    """``QuantileSums`` of an arm from raw values, one sequence per visitor: what the SQL of a
    look computes, for tests, benchmarks and pasted raw data."""
    ordered = sorted(value for cluster in clusters for value in cluster)
    sizes = [len(cluster) for cluster in clusters if cluster]
    if not ordered:
        return QuantileSums(level, units, None, None, None, IndicatorSums(0, 0, 0, 0, 0, 0))
    quantile = ordered[quantile_rank(level, len(ordered)) - 1]
    below = [sum(1 for value in cluster if value <= quantile) for cluster in clusters if cluster]
    sums = IndicatorSums(
        clusters=len(sizes),
        values=len(ordered),
        below=float(sum(below)),
        below_squares=float(sum(s * s for s in below)),
        cross=float(sum(s * n for s, n in zip(below, sizes, strict=True))),
        value_squares=float(sum(n * n for n in sizes)),
    )
    low, high = dky_positions(level, sums)

    def value_at(rank: int) -> float:
        return ordered[rank - 1]

    lower, upper = at_position(low, value_at), at_position(high, value_at)
    return QuantileSums(level, units, quantile, lower, upper, sums)


def quantile_estimate(arm: QuantileSums) -> ArmEstimate:
    """The arm's quantile and the variance of that estimate, (upper - lower)^2 / (2 z)^2,
    as the estimate every reading works from (normal reference: infinite degrees of freedom)."""
    if arm.quantile is None or arm.lower is None or arm.upper is None:
        return ArmEstimate(None, 0.0, arm.units, math.inf)
    se = (arm.upper - arm.lower) / (2.0 * DKY_Z)
    return ArmEstimate(arm.quantile, se * se, arm.units, math.inf)


class QuantileReading(NamedTuple):
    """A comparison of two arms' quantiles, or why it is withheld (``withheld``)."""

    fixed: FixedReading | None
    sequential: SequentialResult | None
    withheld: Reason | None


def compare_quantiles(
    control: QuantileSums,
    treatment: QuantileSums,
    *,
    alpha: float,
    alternative: Alternative = Alternative.TWO_SIDED,
    planned_units: int,
    comparisons: int = 1,
    minimum_values: int = MINIMUM_VALUES,
) -> QuantileReading:
    """Treatment's quantile minus control's: the fixed-horizon z-test (p-value, absolute and
    Fieller relative intervals at ``alpha``) and the always-valid mixture reading, one of
    ``comparisons`` with the control (Bonferroni, as for other metrics). Withheld below
    ``minimum_values`` values in either arm (``not_enough_data``), or when both intervals have
    no width (``zero_variance``: every value near the quantile ties)."""
    fewest = min(control.indicator.values, treatment.indicator.values)
    if fewest < minimum_values:
        return QuantileReading(None, None, Reason.NOT_ENOUGH_DATA)
    first, second = quantile_estimate(control), quantile_estimate(treatment)
    if not first.variance + second.variance > 0:
        return QuantileReading(None, None, Reason.ZERO_VARIANCE)
    fixed = welch_test(first, second, alpha, alternative)
    sequential = mixture_sprt(
        first, second, alpha, alternative, planned_units, comparisons, dof=math.inf
    )
    return QuantileReading(fixed, sequential, None)
