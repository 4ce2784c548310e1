"""Fixed-horizon reading: Welch's t-test on the difference of means.

Degrees of freedom by Welch-Satterthwaite; proportions enter as Bernoulli
means with sample variance, so the result equals ``scipy.stats.ttest_ind(...,
equal_var=False)`` on the raw 0/1 values (away from 0 or n conversions, where
the Agresti-Caffo estimates are used, see ``stats.estimates``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

from stats._builders import named_tuple
from stats._distributions import student_t_ppf, student_t_sf
from stats.estimates import ArmEstimate
from stats.relative import fieller_relative
from stats.results import Interval
from stats.types import Alternative, Reason

# Enum members read once: on Python 3.11 each `Alternative.X` lookup costs 70 ns on the hot path.
_TWO_SIDED, _GREATER, _LESS = Alternative.TWO_SIDED, Alternative.GREATER, Alternative.LESS

# p-value of a t statistic for each alternative (upper tail, lower tail, both).
_P_VALUE: dict[Alternative, Callable[[float, float], float]] = {
    Alternative.TWO_SIDED: lambda t, dof: min(1.0, 2.0 * student_t_sf(abs(t), dof)),
    Alternative.GREATER: lambda t, dof: student_t_sf(t, dof),
    Alternative.LESS: lambda t, dof: student_t_sf(-t, dof),
}


def tail_quantile(alpha: float, alternative: Alternative) -> float:
    """Probability level of the critical value: 1 - alpha/2 two-sided, 1 - alpha one-sided."""
    return 1.0 - alpha / 2.0 if alternative is _TWO_SIDED else 1.0 - alpha


def bounded_interval(estimate: float, half_width: float, alternative: Alternative) -> Interval:
    """``estimate +- half_width``, open on the side the alternative does not test."""
    low = None if alternative is _LESS else estimate - half_width
    high = None if alternative is _GREATER else estimate + half_width
    return named_tuple(Interval, (estimate, low, high))


class FixedReading(NamedTuple):
    p_value: float
    absolute: Interval
    relative: Interval | None
    reason: Reason | None
    dof: float


def welch_dof(control: ArmEstimate, treatment: ArmEstimate) -> float:
    """Welch-Satterthwaite degrees of freedom of the difference (inf when both variances are 0).

    Written with each arm's share of the total variance, so it depends on the variances'
    ratio only: squaring the variances themselves overflows (or underflows to a normal
    tail) for metrics in very large (or very small) units. Each arm brings its own ``dof``
    (n - 1; for a ratio, units with a non-zero denominator - 1; infinite for a z-interval).
    """
    total = control.variance + treatment.variance
    if total <= 0:
        return math.inf
    control_share = control.variance / total
    treatment_share = treatment.variance / total
    spread = (
        control_share * control_share / control.dof
        + treatment_share * treatment_share / treatment.dof
    )
    return 1.0 / spread if spread > 0 else math.inf


def difference_and_se(
    control: ArmEstimate, treatment: ArmEstimate, test: str
) -> tuple[float, float]:
    """Treatment minus control and its standard error, for ``test`` (named in the error).

    Raises ``ValueError`` when a mean is undefined or the difference has no positive variance:
    ``stats.analysis`` withholds such readings before any test runs.
    """
    if control.mean is None or treatment.mean is None:
        raise ValueError(f"{test} needs defined means in both arms")
    variance = control.variance + treatment.variance
    if not variance > 0:
        raise ValueError(f"{test} needs a positive variance of the difference")
    return treatment.mean - control.mean, math.sqrt(variance)


def welch_test(
    control: ArmEstimate,
    treatment: ArmEstimate,
    alpha: float,
    alternative: Alternative,
) -> FixedReading:
    """Welch test of treatment minus control with absolute and Fieller relative intervals.

    Both arms must have a defined mean and the difference a positive variance (the caller
    withholds the reading otherwise, see ``stats.analysis``). ``alpha`` sets the intervals'
    level; with several comparisons it is the level that matches the adjusted p-value.
    """
    difference, se = difference_and_se(control, treatment, "Welch's test")
    dof = welch_dof(control, treatment)
    p_value = _P_VALUE[alternative](difference / se, dof)
    critical = student_t_ppf(tail_quantile(alpha, alternative), dof)
    relative = fieller_relative(treatment, control, critical, alternative)
    absolute = bounded_interval(difference, critical * se, alternative)
    return named_tuple(FixedReading, (p_value, absolute, relative, _relative_reason(relative), dof))


def _relative_reason(relative: Interval | None) -> Reason | None:
    if relative is None:
        return Reason.CONTROL_MEAN_ZERO
    if relative.ci_low is None and relative.ci_high is None:
        return Reason.RELATIVE_INTERVAL_UNBOUNDED
    return None
