"""Per-variant estimates (mean and variance of the mean), one estimator per metric kind.

Every reading (fixed, sequential, Bayesian) works from these estimates only,
so it does not need to know which kind of metric it is reading.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

from stats._builders import named_tuple
from stats.gates import SpreadUnits, spread_units
from stats.types import (
    MetricStats,
    ProportionStats,
    RatioStats,
    StatisticsKind,
    VariantInput,
)


class ArmEstimate(NamedTuple):
    """Estimated mean of one variant, the variance of that estimate and its degrees of freedom.

    ``mean`` is ``None`` when the metric is undefined in the arm (a ratio whose
    denominator sums to zero). ``dof`` is n - 1 for a proportion; for a mean or a ratio it is
    the units that carry the spread minus 1 (``stats.gates.spread_units``: units with a
    non-zero value or denominator; the other units add nothing to the spread).
    A named tuple rather than a dataclass: it is built on every request's hot path.
    """

    mean: float | None
    variance: float
    n: int
    dof: float


def _sample_mean(variant: VariantInput, units: SpreadUnits | None = None) -> ArmEstimate:
    stats = variant.stats
    if type(stats) is ProportionStats:
        n = stats.n
        return named_tuple(ArmEstimate, (stats.conversions / n, stats.variance / n, n, n - 1))
    if isinstance(stats, RatioStats):
        raise TypeError("ratio statistics need the delta-method estimator")
    if units is None:
        units = spread_units(variant)
    dof = max(units.units - 1.0, 0.0)
    return named_tuple(ArmEstimate, (stats.mean, stats.variance / stats.n, stats.n, dof))


def _delta_method_ratio(variant: VariantInput, units: SpreadUnits | None = None) -> ArmEstimate:
    stats = variant.stats
    if not isinstance(stats, RatioStats):
        raise TypeError("the delta-method estimator reads ratio statistics")
    if units is None:
        units = spread_units(variant)
    dof = max(units.units - 1.0, 0.0)
    # A denominator whose mean per unit underflows to 0 has no usable ratio either.
    if stats.denominator_sum / stats.n == 0:
        return named_tuple(ArmEstimate, (None, 0.0, stats.n, dof))
    return named_tuple(ArmEstimate, (stats.mean, stats.variance / stats.n, stats.n, dof))


class Estimator(Protocol):
    """An arm's estimate; ``units``: its ``spread_units`` when the caller has them."""

    def __call__(
        self, variant: VariantInput, units: SpreadUnits | None = None, /
    ) -> ArmEstimate: ...


ESTIMATORS: dict[StatisticsKind, Estimator] = {
    StatisticsKind.PROPORTION: _sample_mean,
    StatisticsKind.MEAN: _sample_mean,
    StatisticsKind.RATIO: _delta_method_ratio,
}


def agresti_caffo(stats: ProportionStats) -> ArmEstimate:
    """The arm with one success and one failure added (Agresti and Caffo 2000).

    Used for both arms of a comparison in which an arm has 0 or n conversions: the Wald
    interval on these estimates has close to nominal coverage there, where the plain one
    collapses to a point. Normal reference (infinite degrees of freedom), as for a z-interval.
    """
    n = stats.n + 2
    rate = (stats.conversions + 1) / n
    return ArmEstimate(rate, rate * (1.0 - rate) / n, stats.n, float("inf"))


def at_boundary(stats: MetricStats) -> bool:
    """A proportion with no conversions, or with every unit converted (zero estimated spread)."""
    return isinstance(stats, ProportionStats) and stats.conversions in (0, stats.n)


def is_proportion_without_conversions(stats: MetricStats) -> bool:
    return isinstance(stats, ProportionStats) and stats.conversions == 0
