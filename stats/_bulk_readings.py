"""The readings of ``stats.fixed``, ``stats.relative``, ``stats.sequential`` and
``stats.bayesian`` over flat arrays of comparisons (those a reading is given), each formula
with the scalar one's operations in the same order."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from stats import _vector
from stats._bulk_pairs import Side
from stats._vector import Flags, Floats, each, each_distinct, py_max, py_min
from stats.sequential import SMALL_SAMPLE_DOF, mixture_tuning
from stats.types import Alternative, Prior

UNDEFINED, UNBOUNDED, BOUNDED = 0, 1, 2
"""Codes of ``Relative.shape``: no relative uplift (control mean 0), an unbounded interval, and
an interval with the bounds the alternative keeps."""


class Difference(NamedTuple):
    """Treatment minus control, its standard error and Welch's degrees of freedom."""

    value: Floats
    se: Floats
    dof: Floats


class Relative(NamedTuple):
    """Fieller's interval on the relative uplift; ``keeps_low`` for a one-sided one."""

    estimate: Floats
    low: Floats
    high: Floats
    shape: npt.NDArray[np.int64]
    keeps_low: Flags


class Sequential(NamedTuple):
    p_value: Floats
    adjusted: Floats
    critical: Floats
    relative: Relative


class Bayesian(NamedTuple):
    defined: Flags
    chance: Floats
    loss: Floats


def difference(control: Side, treatment: Side) -> Difference:
    """``stats.fixed.difference_and_se`` and ``welch_dof``."""
    total = control.variance + treatment.variance
    control_share = control.variance / total
    treatment_share = treatment.variance / total
    spread = (
        control_share * control_share / control.dof
        + treatment_share * treatment_share / treatment.dof
    )
    with np.errstate(divide="ignore"):
        dof = np.where(spread > 0, 1.0 / spread, math.inf)
    dof = np.where(total <= 0, math.inf, dof)
    return Difference(treatment.mean - control.mean, np.sqrt(total), dof)


def welch_p_value(read: Difference, alternative: Alternative) -> Floats:
    """``stats.fixed``'s p-value of the t statistic for ``alternative``."""
    t = read.value / read.se
    if alternative is Alternative.TWO_SIDED:
        both: Floats = py_min(1.0, 2.0 * _vector.student_t_sf(np.abs(t), read.dof))
        return both
    if alternative is Alternative.GREATER:
        return _vector.student_t_sf(t, read.dof)
    return _vector.student_t_sf(-t, read.dof)


def critical_values(alpha: Floats, alternative: Alternative, dof: Floats) -> Floats:
    """``student_t_ppf(tail_quantile(alpha, alternative), dof)``."""
    q = 1.0 - alpha / 2.0 if alternative is Alternative.TWO_SIDED else 1.0 - alpha
    return _vector.student_t_ppf(q, dof)


class Scaled(NamedTuple):
    """What Fieller's interval of every comparison takes from its sides, whatever the critical
    value (the same for the fixed and the sequential interval): the relative estimate, and the
    means and variances scaled by the largest of the means and standard deviations."""

    estimate: Floats
    mean_t: Floats
    mean_c: Floats
    var_t: Floats
    var_c: Floats
    undefined: Flags


def scaled(control: Side, treatment: Side) -> Scaled:
    """The start of ``stats.relative.fieller_relative``."""
    mean_t, mean_c = treatment.mean, control.mean
    with np.errstate(all="ignore"):
        estimate = mean_t / mean_c - 1.0
        sd_t, sd_c = np.sqrt(treatment.variance), np.sqrt(control.variance)
        scale = py_max(py_max(py_max(np.abs(mean_t), np.abs(mean_c)), sd_t), sd_c)
        mean_t, mean_c = mean_t / scale, mean_c / scale
        sd_t, sd_c = sd_t / scale, sd_c / scale
        return Scaled(estimate, mean_t, mean_c, sd_t * sd_t, sd_c * sd_c, control.mean == 0)


def fieller(terms: Scaled, critical: Floats, alternative: Alternative) -> Relative:
    """``stats.relative.fieller_relative`` (of its ``scaled`` start)."""
    mean_t, mean_c, var_t, var_c = terms.mean_t, terms.mean_c, terms.var_t, terms.var_c
    with np.errstate(all="ignore"):
        z2 = critical * critical
        quad = mean_c * mean_c - z2 * var_c
        half_disc = z2 * (mean_t * mean_t * var_c + mean_c * mean_c * var_t - z2 * var_c * var_t)
        root = np.sqrt(py_max(half_disc, 0.0))
        low = (mean_t * mean_c - root) / quad - 1.0
        high = (mean_t * mean_c + root) / quad - 1.0
    shape = np.where(quad <= 0, UNBOUNDED, BOUNDED)
    shape = np.where(terms.undefined, UNDEFINED, shape)
    keeps_low = (alternative is Alternative.GREATER) == (mean_c > 0)
    return Relative(terms.estimate, low, high, shape, np.asarray(keeps_low))


def sequential(
    control: Side,
    treatment: Side,
    read: Difference,
    terms: tuple[float, Alternative, int, int],
    relative: Scaled,
) -> Sequential:
    """``stats.sequential.mixture_sprt``; ``terms``: alpha, alternative, planned units per
    variant and the comparisons of each analysis; ``relative``: Fieller's start."""
    alpha, alternative, planned, comparisons = terms
    one_sided = alternative is not Alternative.TWO_SIDED
    level = (2.0 * alpha if one_sided else alpha) / comparisons
    effective = 2.0 * control.n * treatment.n / (control.n + treatment.n)
    ratio = mixture_tuning(level) * effective / planned
    z = read.value / read.se
    small = read.dof < SMALL_SAMPLE_DOF
    if small.any():
        z = z.copy()
        z[small] = _vector.normal_equivalent(z[small], read.dof[small])
    exponent = 0.5 * z * z * ratio / (1.0 + ratio)
    # In the p-value and the critical value alike; a function of the units only, which the
    # metrics of a level share.
    log_growth = each_distinct(math.log1p, ratio)
    log_inverse = 0.5 * log_growth - exponent
    p_value = np.ones_like(z)
    below = ~(log_inverse >= 0)
    _vector.on(below, lambda values: each(math.exp, values), log_inverse, p_value)
    if one_sided:
        in_direction = (read.value > 0) == (alternative is Alternative.GREATER)
        p_value = np.where(in_direction & (read.value != 0), 0.5 * p_value, 1.0)
    adjusted = py_min(1.0, comparisons * p_value)
    critical = np.sqrt(2.0 * (1.0 + ratio) / ratio * (math.log(1.0 / level) + 0.5 * log_growth))
    if small.any():
        critical[small] = _vector.t_equivalent(critical[small], read.dof[small])
    return Sequential(p_value, adjusted, critical, fieller(relative, critical, alternative))


def bayesian(
    control: Side, treatment: Side, prior: Prior | None, alternative: Alternative
) -> Bayesian:
    """``stats.bayesian.gaussian_reading``: the chance to beat the control and the expected
    loss, where ``defined``."""
    with np.errstate(all="ignore"):
        inverse = 1.0 / control.mean
        ratio = treatment.mean * inverse
        variance = (treatment.variance + ratio * ratio * control.variance) * inverse * inverse
        likely = (control.mean != 0) & np.isfinite(ratio) & np.isfinite(variance)
        estimate = ratio - 1.0
        data_sd = np.sqrt(variance)
        if prior is None:
            mean, sd = estimate, data_sd
        else:
            scale = py_max(data_sd, prior.sd)
            data_share, prior_share = data_sd / scale, prior.sd / scale
            weight = (
                prior_share * prior_share / (data_share * data_share + prior_share * prior_share)
            )
            mean = estimate * weight + prior.mean * (1.0 - weight)
            sd = data_sd * np.sqrt(weight)
        if alternative is Alternative.LESS:
            mean = -mean
        defined = likely & np.isfinite(mean) & np.isfinite(sd)
        point = defined & (sd <= 0)
        spread = defined & ~point
        chance = np.where(mean > 0, 1.0, np.where(mean < 0, 0.0, 0.5))
        loss = py_max(0.0, -mean)
        if spread.any():
            z = mean[spread] / sd[spread]
            chance[spread] = _vector.normal_cdf(z)
            spread_loss = sd[spread] * _vector.normal_pdf(z) - mean[spread] * _vector.normal_cdf(-z)
            loss[spread] = py_max(spread_loss, 0.0)
    return Bayesian(defined, chance, loss)
