"""Per-variant estimates (mean and variance of the mean), one estimator per metric kind.

Every reading (fixed, sequential, Bayesian) works from these estimates only,
so it does not need to know which kind of metric it is reading.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from stats.types import MeanStats, MetricKind, MetricStats, ProportionStats, RatioStats


class ArmEstimate(NamedTuple):
    """Estimated mean of one variant and the variance of that estimate.

    ``mean`` is ``None`` when the metric is undefined in the arm (a ratio whose
    denominator sums to zero). ``dof`` is the arm's degrees of freedom (n - 1).
    A named tuple rather than a dataclass: it is built on every request's hot path.
    """

    mean: float | None
    variance: float
    n: int

    @property
    def dof(self) -> int:
        return self.n - 1


def _sample_mean(stats: MetricStats) -> ArmEstimate:
    if isinstance(stats, RatioStats):
        raise TypeError("ratio statistics need the delta-method estimator")
    return ArmEstimate(stats.mean, stats.variance / stats.n, stats.n)


def _delta_method_ratio(stats: MetricStats) -> ArmEstimate:
    if not isinstance(stats, RatioStats):
        raise TypeError("the delta-method estimator reads ratio statistics")
    if stats.denominator_sum == 0:
        return ArmEstimate(None, 0.0, stats.n)
    return ArmEstimate(stats.mean, stats.variance / stats.n, stats.n)


Estimator = Callable[[MetricStats], ArmEstimate]

ESTIMATORS: dict[MetricKind, Estimator] = {
    MetricKind.PROPORTION: _sample_mean,
    MetricKind.MEAN: _sample_mean,
    MetricKind.RATIO: _delta_method_ratio,
}


def is_proportion_without_conversions(stats: MetricStats) -> bool:
    return isinstance(stats, ProportionStats) and stats.conversions == 0


def per_unit_moments(stats: MetricStats) -> tuple[float, float]:
    """Sum and sum of squares of the per-unit metric value (proportion or mean)."""
    if isinstance(stats, ProportionStats | MeanStats):
        return stats.total, stats.sum_squares
    raise TypeError("per-unit moments exist for proportion and mean statistics only")
