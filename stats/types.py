"""Input types of the statistics engine: enumerated options and sufficient statistics.

Input contract (the one place it is written down; what each sum is, is said
on its field below): every metric arrives as sufficient statistics per variant,
summed over exposed units. Sums are taken *after* any capping (winsorisation):
capping needs unit-level values, so the results aggregation applies it, to the
same units for numerator and denominator, before summing. ``stats`` never sees
unit-level data.

- ``proportion`` (``ProportionStats``), ``mean`` (``MeanStats``) or ``ratio``
  (``RatioStats``): at least 2 units per variant.
- ``nonzero_units`` (optional, ``mean`` and ``ratio``): units whose value
  (``mean``) or denominator (``ratio``) is not zero, e.g. units with an order
  for AOV. A ratio takes its degrees of freedom from it, and the minimums below
  count it; without it every unit counts.
- CUPED (``CovariateStats``): the sums of a pre-exposure covariate, for every
  variant or for none; a ``ratio`` also needs ``covariate_denominator_cross_sum``, and may add
  its pre-exposure denominator as a second covariate (the five ``pre_denominator`` sums, in
  every variant or in none).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple


class StatisticsKind(StrEnum):
    """Which sufficient statistics a metric is summarised by."""

    PROPORTION = "proportion"
    MEAN = "mean"
    RATIO = "ratio"


class QuantileKind(StrEnum):
    """The kind an ``AnalysisResult`` of a quantile metric reports (``stats.quantile_analysis``):
    apart from ``StatisticsKind``, whose kinds ``analyze`` takes as sums; a quantile is not
    summed."""

    QUANTILE = "quantile"


# The sufficient statistics of each kind, in the order the CLI's NAME=a/b/c form takes them.
STATISTIC_FIELDS: dict[StatisticsKind, tuple[str, ...]] = {
    StatisticsKind.PROPORTION: ("n", "conversions"),
    StatisticsKind.MEAN: ("n", "sum", "sum_squares"),
    StatisticsKind.RATIO: (
        "n",
        "numerator_sum",
        "numerator_sum_squares",
        "denominator_sum",
        "denominator_sum_squares",
        "cross_sum",
    ),
}


class Alternative(StrEnum):
    """Alternative hypothesis on treatment minus control."""

    TWO_SIDED = "two-sided"
    GREATER = "greater"
    LESS = "less"


class Correction(StrEnum):
    """Multiple-comparison adjustment across the comparisons with the control."""

    HOLM = "holm"
    BENJAMINI_HOCHBERG = "bh"
    NONE = "none"


class PlannedTest(StrEnum):
    """Which test a sample size is planned for: the sequential one that decides, or a single
    fixed-horizon look."""

    SEQUENTIAL = "sequential"
    FIXED = "fixed"


class Reason(StrEnum):
    """Why a comparison's figures are degenerate, partial or missing."""

    NOT_ENOUGH_DATA = "not_enough_data"
    ZERO_VARIANCE = "zero_variance"
    NO_CONVERSIONS = "no_conversions"
    CONTROL_MEAN_ZERO = "control_mean_zero"
    DENOMINATOR_ZERO = "denominator_zero"
    RELATIVE_INTERVAL_UNBOUNDED = "relative_interval_unbounded"


def _sample_variance(n: int, total: float, total_squares: float) -> float:
    """Unbiased variance from sums; tiny negative rounding noise becomes 0."""
    centred = total_squares - total * total / n
    return max(centred, 0.0) / (n - 1)


def _sample_covariance(n: int, sum_x: float, sum_y: float, cross: float) -> float:
    return (cross - sum_x * sum_y / n) / (n - 1)


@dataclass(frozen=True, slots=True)
class ProportionStats:
    """Units and converted units of one variant; a Bernoulli mean."""

    n: int
    """Exposed units."""
    conversions: int
    """Units with the event, each counted once however often it happened (at most ``n``)."""

    @property
    def mean(self) -> float:
        return self.conversions / self.n

    @property
    def sum_squares(self) -> float:
        """The sum of squares of the per-unit 0/1 values: equal to their sum."""
        return float(self.conversions)

    @property
    def total(self) -> float:
        """The sum of the per-unit 0/1 values, so that CUPED and the covariate checks read a
        proportion as they read a ``MeanStats``."""
        return float(self.conversions)

    @property
    def variance(self) -> float:
        """Sample variance p(1-p) n/(n-1), as for the raw 0/1 values."""
        p = self.conversions / self.n
        return p * (1.0 - p) * self.n / (self.n - 1)

    def __add__(self, other: ProportionStats) -> ProportionStats:
        return ProportionStats(self.n + other.n, self.conversions + other.conversions)


@dataclass(frozen=True, slots=True)
class MeanStats:
    """Units, sum and sum of squares of a per-unit value of one variant."""

    n: int
    """Exposed units, those whose value is 0 included."""
    sum: float
    """Sum over units of the per-unit value (for revenue per visitor: each unit's revenue)."""
    sum_squares: float
    """Sum over units of the square of the per-unit value."""

    @property
    def mean(self) -> float:
        return self.sum / self.n

    @property
    def total(self) -> float:
        """``sum`` under the name ``ProportionStats`` shares with it."""
        return self.sum

    @property
    def variance(self) -> float:
        return _sample_variance(self.n, self.sum, self.sum_squares)

    def __add__(self, other: MeanStats) -> MeanStats:
        return MeanStats(
            self.n + other.n, self.sum + other.sum, self.sum_squares + other.sum_squares
        )


@dataclass(frozen=True, slots=True)
class RatioStats:
    """Per-unit numerator and denominator sums of one variant (AOV, cart abandonment)."""

    n: int
    """Exposed units, those whose denominator is 0 included (for AOV: units without an order)."""
    numerator_sum: float
    """Sum over units of the per-unit numerator (for AOV: each unit's revenue)."""
    numerator_sum_squares: float
    """Sum over units of the square of the per-unit numerator."""
    denominator_sum: float
    """Sum over units of the per-unit denominator (for AOV: each unit's orders)."""
    denominator_sum_squares: float
    """Sum over units of the square of the per-unit denominator."""
    cross_sum: float
    """Sum over units of numerator x denominator: their covariance enters the delta method."""

    @property
    def mean(self) -> float:
        """The ratio of sums; NaN-free callers check ``denominator_sum`` first."""
        return self.numerator_sum / self.denominator_sum

    @property
    def numerator_variance(self) -> float:
        return _sample_variance(self.n, self.numerator_sum, self.numerator_sum_squares)

    @property
    def denominator_variance(self) -> float:
        return _sample_variance(self.n, self.denominator_sum, self.denominator_sum_squares)

    @property
    def covariance(self) -> float:
        return _sample_covariance(self.n, self.numerator_sum, self.denominator_sum, self.cross_sum)

    @property
    def variance(self) -> float:
        """Delta-method variance per unit: divided by n, the variance of the ratio of sums."""
        mean_denominator = self.denominator_sum / self.n
        ratio = self.mean
        linearised = (
            self.numerator_variance
            - 2.0 * ratio * self.covariance
            + ratio * ratio * self.denominator_variance
        )
        if mean_denominator == 0:
            return math.inf  # a subnormal denominator sum spread over n units underflows
        # Divide twice: the square of a tiny denominator mean underflows to 0.
        return max(linearised, 0.0) / mean_denominator / mean_denominator

    def __add__(self, other: RatioStats) -> RatioStats:
        return RatioStats(
            self.n + other.n,
            self.numerator_sum + other.numerator_sum,
            self.numerator_sum_squares + other.numerator_sum_squares,
            self.denominator_sum + other.denominator_sum,
            self.denominator_sum_squares + other.denominator_sum_squares,
            self.cross_sum + other.cross_sum,
        )


@dataclass(frozen=True, slots=True)
class CovariateStats:
    """Pre-exposure covariate sums of one variant, for CUPED."""

    covariate_sum: float
    """Sum over units of the pre-exposure covariate (typically the metric before exposure)."""
    covariate_sum_squares: float
    """Sum over units of the square of the covariate."""
    covariate_cross_sum: float
    """Sum over units of the per-unit value x covariate; for a ratio, numerator x covariate."""
    covariate_denominator_cross_sum: float = 0.0
    """Ratio only: sum over units of denominator x covariate (unused by other kinds)."""
    pre_denominator_sum: float = 0.0
    """Ratio only, optional: sum over units of the second covariate, the pre-exposure
    denominator (for AOV: each unit's orders before exposure). All five ``pre_denominator``
    sums 0 (the default): CUPED uses the first covariate alone."""
    pre_denominator_sum_squares: float = 0.0
    """Sum over units of the square of the pre-exposure denominator."""
    pre_denominator_cross_sum: float = 0.0
    """Sum over units of numerator x pre-exposure denominator."""
    pre_denominator_denominator_cross_sum: float = 0.0
    """Sum over units of denominator x pre-exposure denominator."""
    covariate_pre_denominator_cross_sum: float = 0.0
    """Sum over units of covariate x pre-exposure denominator (the two covariates' product)."""

    def __add__(self, other: CovariateStats) -> CovariateStats:
        return CovariateStats(
            *(mine + theirs for mine, theirs in zip(_sums(self), _sums(other), strict=True))
        )


def _sums(covariate: CovariateStats) -> tuple[float, ...]:
    return (
        covariate.covariate_sum,
        covariate.covariate_sum_squares,
        covariate.covariate_cross_sum,
        covariate.covariate_denominator_cross_sum,
        covariate.pre_denominator_sum,
        covariate.pre_denominator_sum_squares,
        covariate.pre_denominator_cross_sum,
        covariate.pre_denominator_denominator_cross_sum,
        covariate.covariate_pre_denominator_cross_sum,
    )


MetricStats = ProportionStats | MeanStats | RatioStats


class VariantInput(NamedTuple):
    """One validated variant: its key, metric sums and optional CUPED covariate.

    A named tuple rather than a dataclass: it is built on every request's hot path.
    """

    key: str
    stats: MetricStats
    covariate: CovariateStats | None = None
    nonzero_units: int | None = None


@dataclass(frozen=True, slots=True)
class AnalysisOptions:
    """How ``analyze`` reads the variants: the level, the alternative, the planned units per
    variant the sequential test is tuned to (default: ``stats.sequential``'s), the correction
    across comparisons, an optional prior, the designed traffic weights (default: equal) and
    the minimums below which no reading is reported."""

    alpha: float = 0.05
    alternative: Alternative | str = Alternative.TWO_SIDED
    planned_units_per_variant: int | None = None
    correction: Correction | str = Correction.HOLM
    prior: Prior | Mapping[str, Any] | None = None
    weights: Sequence[float] | None = None
    minimums: Minimums | Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Minimums:
    """Least data a comparison needs before any reading is reported (docs/statistics.md).

    Below them a comparison has reason ``not_enough_data``: estimates, but no interval bounds,
    no p-value and ``significant`` false. ``conversions`` counts both arms of a proportion
    comparison together; ``units`` counts each arm's ``nonzero_units`` (or ``n``) for ``mean``
    and ``ratio`` metrics.
    """

    conversions: int = 10
    units: int = 10


DEFAULT_MINIMUMS = Minimums()


@dataclass(frozen=True, slots=True)
class Prior:
    """Proper Gaussian prior on the relative uplift (0.0 = no change)."""

    mean: float
    sd: float


class SegmentSkip(StrEnum):
    """Why a segment cell is not tested, beyond the engine's own ``Reason`` for a comparison."""

    VARIANT_MISSING = "variant_missing"
    """The level holds no sums for the control or for this variant."""
    NO_REST = "no_rest"
    """The level holds every unit of the control or the variant: there is no rest to compare."""
    MEAN_NOT_POSITIVE = "mean_not_positive"
    """A mean of 0 or below in an arm: the effect has no ratio scale to compare on."""
    INCONSISTENT_SUMS = "inconsistent_sums"
    """The level's sums are not part of the whole's (a negative or invalid rest), or invalid
    (among them, arm means whose ratio is past a float's range)."""


@dataclass(frozen=True, slots=True)
class LevelStats:
    """One level of one dimension (``device`` = ``mobile``): each variant's sums over the units
    whose level it is, of the same kind as the whole's and summed the same way.

    Input contract of ``stats.segments``: the levels of a dimension partition the whole's
    units (``other`` and ``(none)`` included), so the rest of a level is the whole minus the
    level, sum by sum. A variant without units in the level is left out of ``variants``.
    """

    dimension: str
    level: str
    variants: Sequence[VariantInput]
