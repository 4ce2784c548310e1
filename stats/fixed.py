"""Fixed-horizon reading: Welch's t-test on the difference of means.

Degrees of freedom by Welch-Satterthwaite; proportions enter as Bernoulli
means with sample variance, so the result equals ``scipy.stats.ttest_ind(...,
equal_var=False)`` on the raw 0/1 values.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

from stats._distributions import student_t_ppf, student_t_sf
from stats.estimates import ArmEstimate
from stats.relative import fieller_relative
from stats.results import Interval
from stats.types import Alternative, Reason

# p-value of a t statistic for each alternative (upper tail, lower tail, both).
_P_VALUE: dict[Alternative, Callable[[float, float], float]] = {
    Alternative.TWO_SIDED: lambda t, dof: min(1.0, 2.0 * student_t_sf(abs(t), dof)),
    Alternative.GREATER: lambda t, dof: student_t_sf(t, dof),
    Alternative.LESS: lambda t, dof: student_t_sf(-t, dof),
}


_MIRRORED: dict[Alternative, Alternative] = {
    Alternative.GREATER: Alternative.LESS,
    Alternative.LESS: Alternative.GREATER,
    Alternative.TWO_SIDED: Alternative.TWO_SIDED,
}


def tail_quantile(alpha: float, alternative: Alternative) -> float:
    """Probability level of the critical value: 1 - alpha/2 two-sided, 1 - alpha one-sided."""
    return 1.0 - alpha / 2.0 if alternative is Alternative.TWO_SIDED else 1.0 - alpha


def bounded_interval(estimate: float, half_width: float, alternative: Alternative) -> Interval:
    """``estimate +- half_width``, open on the side the alternative does not test."""
    low = None if alternative is Alternative.LESS else estimate - half_width
    high = None if alternative is Alternative.GREATER else estimate + half_width
    return Interval(estimate, low, high)


class FixedReading(NamedTuple):
    p_value: float
    absolute: Interval
    relative: Interval | None
    reason: Reason | None


def welch_dof(control: ArmEstimate, treatment: ArmEstimate) -> float:
    """Welch-Satterthwaite degrees of freedom of the difference (inf when both variances are 0).

    Written with each arm's share of the total variance, so it depends on the variances'
    ratio only: squaring the variances themselves overflows (or underflows to a normal
    tail) for metrics in very large (or very small) units.
    """
    total = control.variance + treatment.variance
    if total <= 0:
        return math.inf
    control_share = control.variance / total
    treatment_share = treatment.variance / total
    return 1.0 / (
        control_share * control_share / control.dof
        + treatment_share * treatment_share / treatment.dof
    )


def welch_test(
    control: ArmEstimate,
    treatment: ArmEstimate,
    alpha: float,
    alternative: Alternative,
) -> FixedReading:
    """Welch test of treatment minus control with absolute and Fieller relative intervals.

    Both arms must have a defined mean. With zero variance in both arms the
    difference is known exactly: p = 1 if it is 0, else 0, and the intervals
    collapse to the estimate.
    """
    if control.mean is None or treatment.mean is None:
        raise ValueError("Welch's test needs defined means in both arms")
    difference = treatment.mean - control.mean
    variance = control.variance + treatment.variance
    if variance <= 0:
        return exact_reading(control.mean, treatment.mean, alternative)
    dof = welch_dof(control, treatment)
    se = math.sqrt(variance)
    p_value = _P_VALUE[alternative](difference / se, dof)
    critical = student_t_ppf(tail_quantile(alpha, alternative), dof)
    relative = fieller_relative(
        (treatment.mean, treatment.variance),
        (control.mean, control.variance),
        critical,
        alternative,
    )
    return FixedReading(
        p_value,
        bounded_interval(difference, critical * se, alternative),
        relative,
        _relative_reason(relative),
    )


def _relative_reason(relative: Interval | None) -> Reason | None:
    if relative is None:
        return Reason.CONTROL_MEAN_ZERO
    if relative.ci_low is None and relative.ci_high is None:
        return Reason.RELATIVE_INTERVAL_UNBOUNDED
    return None


def exact_reading(
    control_mean: float, treatment_mean: float, alternative: Alternative
) -> FixedReading:
    """Reading of a difference known without error (zero variance in both arms)."""
    difference = treatment_mean - control_mean
    if alternative is Alternative.GREATER:
        in_direction = difference > 0
    elif alternative is Alternative.LESS:
        in_direction = difference < 0
    else:
        in_direction = difference != 0
    relative = None
    if control_mean != 0:
        # rho = m_t / m_c runs the other way when the control mean is negative.
        relative_side = alternative if control_mean > 0 else _MIRRORED[alternative]
        relative = bounded_interval(treatment_mean / control_mean - 1.0, 0.0, relative_side)
    return FixedReading(
        0.0 if in_direction else 1.0,
        bounded_interval(difference, 0.0, alternative),
        relative,
        Reason.ZERO_VARIANCE,
    )
