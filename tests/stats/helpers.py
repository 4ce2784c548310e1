"""Sufficient statistics from raw simulated samples, for comparing with scipy and statsmodels,
and checks shared by the statistics tests."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any
from unittest.mock import patch

import numpy as np
import numpy.typing as npt
from statsmodels.stats.multitest import multipletests

FloatArray = npt.NDArray[np.float64]

# A comparison's sequential reading in the JSON shape, as the engine and the API return it.
SEQUENTIAL_READING_KEYS = {"p_value", "p_value_adjusted", "absolute", "relative", "significant"}


def proportion_stats(values: FloatArray, key: str) -> dict[str, Any]:
    return {"key": key, "n": int(values.size), "conversions": int(values.sum())}


def mean_stats(values: FloatArray, key: str) -> dict[str, Any]:
    """The sums of a mean metric with its exact count of non-zero values (without it the
    degrees of freedom come from Kish's count, which is far below n for values around 0)."""
    return {
        "key": key,
        "n": int(values.size),
        "sum": float(values.sum()),
        "sum_squares": float((values * values).sum()),
        "nonzero_units": int(np.count_nonzero(values)),
    }


def ratio_stats(numerator: FloatArray, denominator: FloatArray, key: str) -> dict[str, Any]:
    return {
        "key": key,
        "n": int(numerator.size),
        "numerator_sum": float(numerator.sum()),
        "numerator_sum_squares": float((numerator * numerator).sum()),
        "denominator_sum": float(denominator.sum()),
        "denominator_sum_squares": float((denominator * denominator).sum()),
        "cross_sum": float((numerator * denominator).sum()),
    }


def with_covariate(
    stats: dict[str, Any], values: FloatArray, covariate: FloatArray
) -> dict[str, Any]:
    return {
        **stats,
        "covariate_sum": float(covariate.sum()),
        "covariate_sum_squares": float((covariate * covariate).sum()),
        "covariate_cross_sum": float((values * covariate).sum()),
    }


def assert_finite_floats(value: object) -> None:
    """Every float anywhere inside `value` (nested dicts and lists) is finite."""
    if isinstance(value, float):
        assert math.isfinite(value)
    elif isinstance(value, dict):
        for item in value.values():
            assert_finite_floats(item)
    elif isinstance(value, list):
        for item in value:
            assert_finite_floats(item)


def statsmodels_adjusted(p_values: Sequence[float | None], method: str) -> list[float]:
    """statsmodels' adjusted p-values (`multipletests`), the reference for ours. Its Holm ends
    in `gc.collect()`, a quarter second each in a long test run's heap, which is skipped here."""
    assert None not in p_values, "every p-value to adjust is a number"
    with patch("gc.collect", return_value=0):
        return [float(p) for p in multipletests(list(p_values), method=method)[1]]
