"""Sufficient statistics from raw simulated samples, for comparing with scipy and statsmodels."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def proportion_stats(values: FloatArray, key: str) -> dict[str, Any]:
    return {"key": key, "n": int(values.size), "conversions": int(values.sum())}


def mean_stats(values: FloatArray, key: str) -> dict[str, Any]:
    return {
        "key": key,
        "n": int(values.size),
        "sum": float(values.sum()),
        "sum_squares": float((values * values).sum()),
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
