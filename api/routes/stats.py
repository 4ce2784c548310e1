"""The statistics engine over HTTP (sdk or admin key): counts in, analysis out. Nothing stored."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

import stats
from api.deps import SdkKey

router = APIRouter(prefix="/v1/stats", tags=["statistics"])

NEWSLETTER_EXAMPLE: dict[str, Any] = {  # sent / clicked counts pasted from an e-mail tool
    "kind": "proportion",
    "variants": [
        {"key": "subject-a", "n": 24000, "conversions": 960},
        {"key": "subject-b", "n": 24000, "conversions": 1090},
    ],
    "alpha": 0.05,
}
# Revenue / orders per unit, from a simulated shop (about 690 NOK per order).
AOV_EXAMPLE: dict[str, Any] = {
    "kind": "ratio",
    "variants": [
        {
            "key": "multi-step",
            "n": 5000,
            "numerator_sum": 100950.08,
            "numerator_sum_squares": 124518956.33,
            "denominator_sum": 146,
            "denominator_sum_squares": 200,
            "cross_sum": 138271.01,
        },
        {
            "key": "one-page",
            "n": 5000,
            "numerator_sum": 102630.78,
            "numerator_sum_squares": 118584475.83,
            "denominator_sum": 147,
            "denominator_sum_squares": 179,
            "cross_sum": 125738.95,
        },
    ],
}


class PriorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mean: float
    sd: float = Field(gt=0)


class MinimumsIn(BaseModel):
    """Least data before a comparison is read (docs/statistics.md): conversions in the two arms
    together (proportion), units with a value or denominator per arm (mean, ratio). Absent
    fields keep the defaults; `stats` checks the values."""

    model_config = ConfigDict(extra="forbid")
    conversions: int | None = None
    units: int | None = None


class AnalyzeRequest(BaseModel):
    """`variants`: sufficient statistics per variant, the control first. proportion: `n`,
    `conversions`; mean: `n`, `sum`, `sum_squares`; ratio: `n`, `numerator_sum`,
    `numerator_sum_squares`, `denominator_sum`, `denominator_sum_squares`, `cross_sum`.
    Optional: `nonzero_units` (mean, ratio: units with a value or a denominator) and the CUPED
    covariate sums. `weights` is the designed split, for the sample-ratio-mismatch check
    (default: equal); `minimums` the data needed before a reading."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [NEWSLETTER_EXAMPLE, AOV_EXAMPLE]}
    )

    kind: Literal["proportion", "mean", "ratio"]
    variants: list[dict[str, Any]] = Field(min_length=2, max_length=20)
    alpha: float = 0.05
    alternative: Literal["two-sided", "greater", "less"] = "two-sided"
    planned_units_per_variant: int | None = None
    correction: Literal["holm", "bh", "none"] = "holm"
    prior: PriorIn | None = None
    weights: list[float] | None = None
    minimums: MinimumsIn | None = None


class SampleSizeRequest(BaseModel):
    """Give `baseline_rate` for a conversion metric, or `baseline_mean` and `baseline_sd`.
    `test`: plan for the sequential test that decides (default) or one fixed-horizon look."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"baseline_rate": 0.025, "mde_relative": 0.1, "daily_units": 5000}]
        },
    )

    baseline_rate: float | None = None
    baseline_mean: float | None = None
    baseline_sd: float | None = None
    mde_relative: float
    alpha: float = 0.05
    power: float = 0.8
    variants: int = 2
    daily_units: float | None = None
    test: Literal["sequential", "fixed"] = "sequential"


@router.post("/analyze")
def analyze(body: AnalyzeRequest, _key: SdkKey) -> dict[str, Any]:
    """Fixed-horizon, sequential and Bayesian readings of one metric, each variant vs the first."""
    result = stats.analyze(
        body.kind,
        body.variants,
        alpha=body.alpha,
        alternative=body.alternative,
        planned_units_per_variant=body.planned_units_per_variant,
        correction=body.correction,
        prior=body.prior.model_dump() if body.prior else None,
        weights=body.weights,
        minimums=body.minimums.model_dump(exclude_none=True) if body.minimums else None,
    )
    return result.to_dict()


@router.post("/sample-size")
def sample_size(body: SampleSizeRequest, _key: SdkKey) -> dict[str, Any]:
    """Units per variant (and days, given daily traffic) to detect `mde_relative`."""
    return stats.sample_size(**body.model_dump()).to_dict()
