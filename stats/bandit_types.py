"""Input and result types of the bandit statistics (``stats.bandits``).

Input contract: a bandit's decision metric arrives as sums per update period and arm,
``periods[p][a]``, over the units *first exposed* in period ``p`` (a sticky unit stays in the
period of its first exposure). A conversion rate is summed as 0/1 values, so its ``total`` and
``squares`` are both the converted units; a mean metric (revenue per visitor) sums the per-unit
value and its square. Every period lists the arms in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class ArmPeriodSums:
    """One arm's sums over the units first exposed in one update period."""

    units: int
    """Units first exposed to this arm in this period (0 allowed)."""
    total: float
    """Sum of the per-unit values (for a conversion rate: the converted units)."""
    squares: float
    """Sum of the squares of the per-unit values (for a conversion rate: equal to ``total``)."""

    @property
    def mean(self) -> float:
        """The arm's mean in this period; only defined when ``units`` > 0."""
        return self.total / self.units

    def __add__(self, other: ArmPeriodSums) -> ArmPeriodSums:
        return ArmPeriodSums(
            self.units + other.units, self.total + other.total, self.squares + other.squares
        )


class ArmEstimate(NamedTuple):
    """One arm's period-weighted mean, its standard error and its units over all periods.

    Not ``stats.estimates.ArmEstimate`` (the fixed-split reading's variance and degrees of
    freedom): a bandit's estimate weights each period by its share of all units.
    """

    mean: float
    standard_error: float
    units: int


class GainEstimate(NamedTuple):
    """What the bandit's allocation got beyond an equal split of the same units.

    ``extra`` is in the metric's units summed over units (extra conversions, or extra revenue);
    ``observed`` is what the bandit's units got in the periods counted, so the equal split would
    have got ``observed - extra``. ``periods`` is how many periods were counted (those in which
    every arm had a unit: an equal split's outcome in an empty cell is not estimable).
    """

    extra: float
    standard_error: float
    observed: float
    periods: int

    @property
    def relative(self) -> float | None:
        """``extra`` as a share of the equal split's estimated outcome; None when that is 0."""
        baseline = self.observed - self.extra
        return self.extra / baseline if baseline != 0 else None
