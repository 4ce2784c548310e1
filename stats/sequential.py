"""Sequential reading: one normal-mixture SPRT, giving always-valid p-values and
confidence sequences (absolute, and relative by Fieller's construction).

With the estimated difference ``d``, its variance ``V`` and the mixing
distribution ``N(0, tau^2)`` on the true difference, the mixture likelihood
ratio is ``L = sqrt(V / (V + tau^2)) * exp(d^2 tau^2 / (2 V (V + tau^2)))``.
The always-valid p-value is ``min(1, 1/L)`` (its running minimum over looks),
and the confidence sequence is ``d +- sqrt(2 V (V + tau^2) / tau^2 *
(log(1/alpha) + log((V + tau^2) / V) / 2))``, the set of differences the test
does not reject. ``tau^2`` is tuned so the sequence is narrowest when each arm
holds ``planned_units_per_variant`` units (see docs/statistics.md).
"""

from __future__ import annotations

import math
from functools import lru_cache

from stats import _builders as build
from stats._distributions import (
    normal_isf_log,
    normal_logsf,
    student_t_isf_log,
    student_t_logsf,
)
from stats.estimates import ArmEstimate
from stats.fixed import bounded_interval, difference_and_se, welch_dof
from stats.relative import fieller_relative
from stats.results import UNDEFINED_INTERVAL, SequentialResult
from stats.types import Alternative

DEFAULT_PLANNED_UNITS_PER_VARIANT = 10_000
# Below this many Welch degrees of freedom the statistic goes through Student's t first; above
# it t and normal quantiles differ by less than 0.1 %.
SMALL_SAMPLE_DOF = 1000.0
# Enum members read once: on Python 3.11 each `Alternative.X` lookup costs 70 ns on the hot path.
_TWO_SIDED, _GREATER = Alternative.TWO_SIDED, Alternative.GREATER


@lru_cache(maxsize=256)  # a look reads every comparison at a handful of levels
def mixture_tuning(alpha: float) -> float:
    """tau^2 / V at the planned size that minimises the boundary there (Howard et al. 2021)."""
    log_term = -2.0 * math.log(alpha)
    return log_term + math.log(1.0 + log_term)


def _effective_units(control: ArmEstimate, treatment: ArmEstimate) -> float:
    """Units per arm of the balanced design with the same precision (harmonic mean)."""
    return 2.0 * control.n * treatment.n / (control.n + treatment.n)


def mixture_ratio(
    control: ArmEstimate, treatment: ArmEstimate, alpha: float, planned_units: int
) -> float:
    """tau^2 / V now: the tuning scaled by how far the current size is from the planned one.

    V shrinks like 1 / n, so tau^2 (fixed at ``tuning * V(planned)``) over the
    current V is ``tuning * n_now / n_planned``. Working with this ratio keeps
    the formulas free of tiny variances that could underflow.
    """
    return mixture_tuning(alpha) * _effective_units(control, treatment) / planned_units


def mixture_p_value(z: float, ratio: float) -> float:
    """Two-sided always-valid p-value ``min(1, 1/L)`` for a z statistic ``d / sqrt(V)``."""
    exponent = 0.5 * z * z * ratio / (1.0 + ratio)
    log_inverse = 0.5 * math.log1p(ratio) - exponent
    return 1.0 if log_inverse >= 0 else math.exp(log_inverse)


def mixture_critical_value(ratio: float, alpha: float) -> float:
    """Half-width of the level-(1 - alpha) confidence sequence in units of sqrt(V)."""
    return math.sqrt(
        2.0 * (1.0 + ratio) / ratio * (math.log(1.0 / alpha) + 0.5 * math.log1p(ratio))
    )


def normal_equivalent(t: float, dof: float) -> float:
    """The z with the same tail probability as ``t`` under Student's t with ``dof``."""
    if dof >= SMALL_SAMPLE_DOF:
        return t
    # Through the logarithm of the tail, so a t far out maps to a finite z (not to infinity).
    z = normal_isf_log(student_t_logsf(abs(t), dof))
    return z if t >= 0 else -z


def t_equivalent(z: float, dof: float) -> float:
    """Inverse of ``normal_equivalent`` for a positive critical value."""
    if dof >= SMALL_SAMPLE_DOF:
        return z
    return student_t_isf_log(normal_logsf(z), dof)


def mixture_sprt(
    control: ArmEstimate,
    treatment: ArmEstimate,
    alpha: float,
    alternative: Alternative,
    planned_units: int,
    comparisons: int = 1,
    dof: float | None = None,
) -> SequentialResult:
    """Always-valid reading of treatment minus control, one of ``comparisons`` with the control.

    The family is corrected by Bonferroni: the mixture is run at level ``alpha / comparisons``,
    ``p_value_adjusted`` is ``min(1, comparisons * p_value)`` and ``significant`` is
    ``p_value_adjusted < alpha``, so both confidence sequences agree with it. One-sided
    alternatives use the two-sided mixture at twice that level and keep the side tested. With
    few degrees of freedom (Welch, below ``SMALL_SAMPLE_DOF``) the statistic is read on the
    normal scale through Student's t (see docs/statistics.md; ``dof`` saves recomputing
    them when the caller has them). Both means must be defined and
    the difference's variance positive (``stats.analysis`` withholds the reading otherwise).
    """
    difference, se = difference_and_se(control, treatment, "the sequential test")
    one_sided = alternative is not _TWO_SIDED
    level = (2.0 * alpha if one_sided else alpha) / comparisons
    if dof is None:
        dof = welch_dof(control, treatment)
    ratio = mixture_ratio(control, treatment, level, planned_units)
    z = difference / se
    p_value = mixture_p_value(z if dof >= SMALL_SAMPLE_DOF else normal_equivalent(z, dof), ratio)
    if one_sided:
        in_direction = (difference > 0) == (alternative is _GREATER)
        p_value = 0.5 * p_value if in_direction and difference != 0 else 1.0
    adjusted = min(1.0, comparisons * p_value)
    critical = mixture_critical_value(ratio, level)
    if dof < SMALL_SAMPLE_DOF:
        critical = t_equivalent(critical, dof)
    relative = fieller_relative(treatment, control, critical, alternative)
    return build.sequential_result(
        p_value,
        bounded_interval(difference, critical * se, alternative),
        UNDEFINED_INTERVAL if relative is None else relative,
        adjusted < alpha,
        adjusted,
    )
