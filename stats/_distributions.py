"""Scalar distribution functions fast enough for the per-request hot path.

scipy.stats distribution objects cost 50-100 us per call, which alone would
exceed the engine's budget, so these call the ``scipy.special`` functions
through ``scipy.special.cython_special`` (the same C functions as the ufuncs,
without the ufunc machinery: half the cost on a Python float) or ``math``.
``stats._vector`` calls the ufuncs on arrays, with the same results.
"""

from __future__ import annotations

import math
from typing import Any

from stats._on_first_use import OnFirstUse

# scipy.special's C functions, imported at the first call that needs one.
special: Any = OnFirstUse("scipy.special.cython_special", __name__, "special")

SQRT2 = math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / SQRT2)


def normal_sf(x: float) -> float:
    return 0.5 * math.erfc(x / SQRT2)


def normal_pdf(x: float) -> float:
    return INV_SQRT_2PI * math.exp(-0.5 * x * x)


def normal_ppf(q: float) -> float:
    result: float = special.ndtri(float(q))
    return result


def student_t_sf(x: float, dof: float) -> float:
    """Upper tail P(T > x); the normal tail once dof is effectively infinite."""
    if math.isinf(dof):
        return normal_sf(x)
    result: float = special.stdtr(float(dof), float(-x))
    return result


def student_t_ppf(q: float, dof: float) -> float:
    if math.isinf(dof):
        return normal_ppf(q)
    result: float = special.stdtrit(float(dof), float(q))
    return result


# Below this a tail is read through its logarithm: the tail itself would underflow to zero (and
# its quantile to infinity) not far beyond.
TINY_TAIL = 1e-300
# Beyond this tail scipy's Student-t quantile loses accuracy; Newton's method takes over.
ACCURATE_QUANTILE_LOG_TAIL = -30.0


def student_t_logsf(x: float, dof: float) -> float:
    """log P(T > x) for x > 0, finite far beyond where the tail itself underflows."""
    if math.isinf(dof):
        return normal_logsf(x)
    tail = student_t_sf(x, dof)
    if tail > TINY_TAIL:
        return math.log(tail)
    log_w = math.log(dof) - 2.0 * math.log(x) - math.log1p(dof / (x * x))
    return _log_far_tail(log_w, 0.5 * dof)


def student_t_isf_log(log_tail: float, dof: float) -> float:
    """The x > 0 with log P(T > x) = `log_tail` (the inverse of `student_t_logsf`)."""
    if math.isinf(dof):
        return normal_isf_log(log_tail)
    if log_tail > ACCURATE_QUANTILE_LOG_TAIL:
        quantile = -student_t_ppf(math.exp(log_tail), dof)
        # scipy answers +inf instead of -inf for a quantile beyond the float range (tiny dof).
        return math.inf if quantile <= 0 < -log_tail - math.log(2.0) else quantile
    # Newton's method on log x, where the far tail's logarithm is nearly a straight line; it
    # starts from the leading term of the far tail, log P = a log w - log(dof B(a, 1/2)).
    half = 0.5 * dof
    log_w = (log_tail + math.log(dof) + special.betaln(float(half), 0.5)) / half
    log_x = 0.5 * (math.log(dof) + math.log(-math.expm1(log_w)) - log_w) if log_w < 0 else 0.0
    for _ in range(100):
        if log_x >= 709:
            return math.inf
        x = math.exp(log_x)
        log_sf = student_t_logsf(x, dof)
        # d log P / d log x = -x f(x) / P(T > x)
        slope = -math.exp(log_x + _student_t_logpdf(x, dof) - log_sf)
        step = (log_sf - log_tail) / slope
        log_x -= max(min(step, 5.0), -5.0)
        if abs(step) < 1e-14 * max(1.0, abs(log_x)):
            break
    return math.exp(log_x) if log_x < 709 else math.inf


def _student_t_logpdf(x: float, dof: float) -> float:
    log_kernel = 2.0 * math.log(x) - math.log(dof) + math.log1p(dof / (x * x))  # log(1 + x^2/dof)
    return (
        math.lgamma(0.5 * (dof + 1.0))
        - math.lgamma(0.5 * dof)
        - 0.5 * math.log(dof * math.pi)
        - 0.5 * (dof + 1.0) * log_kernel
    )


def _log_far_tail(log_w: float, half: float) -> float:
    """log P(T > x) through w = dof / (dof + x^2): P = I_w(a, 1/2) / 2 with a = dof / 2, and the
    regularised incomplete beta is w^a (1 - w)^(1/2) / (a B(a, 1/2)) times the series
    sum_n (a + 1/2)_n / (a + 1)_n w^n, which converges fast for the small w of a far tail."""
    w = math.exp(log_w)
    term = total = 1.0
    for n in range(500):
        term *= (half + 0.5 + n) / (half + 1.0 + n) * w
        total += term
        if term < 1e-17 * total:
            break
    beta: float = special.betaln(float(half), 0.5)
    constant = math.log(2.0 * half) + beta
    return half * log_w + 0.5 * math.log1p(-w) + math.log(total) - constant


def normal_logsf(x: float) -> float:
    result: float = special.log_ndtr(float(-x))
    return result


def normal_isf_log(log_tail: float) -> float:
    """The x with log P(Z > x) = `log_tail`."""
    quantile: float = special.ndtri_exp(float(log_tail))
    return -quantile


def chi2_sf(x: float, dof: int) -> float:
    """Upper tail of the chi-square distribution with a whole number of degrees of freedom.

    Uses the closed-form finite series for integer dof (``scipy.special.chdtrc``
    costs about 4 us, more than the rest of a two-variant analysis's tail calls).
    """
    if x <= 0:
        return 1.0
    half = 0.5 * x
    if dof % 2 == 0:
        term = 1.0
        total = 1.0
        for j in range(1, dof // 2):
            term *= half / j
            total += term
        return min(1.0, math.exp(-half) * total)
    term = math.sqrt(2.0 * x / math.pi)
    total = 0.0
    for j in range(1, (dof + 1) // 2):
        total += term
        term *= x / (2 * j + 1)
    return min(1.0, math.erfc(math.sqrt(half)) + math.exp(-half) * total)
