"""The tail functions read through logarithms agree with scipy where scipy's tail is finite,
and stay finite (and invertible) far beyond."""

from __future__ import annotations

import math

import pytest
from scipy import stats as scipy_stats

from stats._distributions import (
    _log_far_tail,
    normal_isf_log,
    normal_logsf,
    student_t_isf_log,
    student_t_logsf,
)


@pytest.mark.parametrize("dof", [0.6, 1.5, 5.0, 166.0, 900.0])
@pytest.mark.parametrize("x", [0.5, 3.0, 30.0, 300.0])
def test_student_t_log_tail_matches_scipy_and_inverts(dof: float, x: float) -> None:
    reference = float(scipy_stats.t.logsf(x, dof))
    if math.isfinite(reference):
        assert student_t_logsf(x, dof) == pytest.approx(reference, rel=1e-9)
    assert student_t_isf_log(student_t_logsf(x, dof), dof) == pytest.approx(x, rel=1e-6)


@pytest.mark.parametrize("dof", [166.0, 900.0])
@pytest.mark.parametrize("x", [3e3, 1e6, 1e150])
def test_student_t_far_tail_stays_finite_and_invertible(dof: float, x: float) -> None:
    log_tail = student_t_logsf(x, dof)
    assert math.isfinite(log_tail) and log_tail < math.log(1e-300)
    assert student_t_isf_log(log_tail, dof) == pytest.approx(x, rel=1e-6)


@pytest.mark.parametrize("z", [0.0, 1.96, 40.0, 900.0])
def test_normal_log_tail_inverts(z: float) -> None:
    assert normal_isf_log(normal_logsf(z)) == pytest.approx(z, abs=1e-9, rel=1e-9)


@pytest.mark.parametrize(("dof", "x"), [(900.0, 45.0), (166.0, 100.0), (5.0, 1e40), (1.5, 1e100)])
def test_far_tail_series_matches_scipy_where_both_are_finite(dof: float, x: float) -> None:
    log_w = math.log(dof) - 2.0 * math.log(x) - math.log1p(dof / (x * x))
    assert _log_far_tail(log_w, 0.5 * dof) == pytest.approx(
        float(scipy_stats.t.logsf(x, dof)), rel=1e-12
    )


@pytest.mark.parametrize("dof", [1.5, 2.5, 3.0, 5.0, 30.0, 900.0])
@pytest.mark.parametrize("log_tail", [-31.0, -100.0, -400.0, -600.0, -720.0, -1500.0])
def test_student_t_quantile_of_a_far_tail_inverts_the_tail(dof: float, log_tail: float) -> None:
    """Beyond e^-30 scipy's quantile loses accuracy (and saturates or overflows further out)."""
    x = student_t_isf_log(log_tail, dof)
    if math.isinf(x):  # only where the answer is truly beyond the floats
        assert -log_tail / (0.5 * dof) > 2 * 700
        return
    assert student_t_logsf(x, dof) == pytest.approx(log_tail, rel=1e-10)
