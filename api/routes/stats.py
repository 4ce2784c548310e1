"""The statistics engine over HTTP (any key: sdk, server, viewer, editor, admin): counts in,
analysis out. Nothing stored."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

import stats
from api.deps import SDK_SCOPES, AuthFirstRoute, RequireKey
from api.problems import PROTECTED, problem_responses
from api.responses import AnalysisOut, SampleSizeOut
from experiments.inputs import MAX_COUNT, MAX_MAGNITUDE, Count, Magnitude, SafeText
from experiments.keys import KeyIdentity
from experiments.models.api_key import KeyScope

router = APIRouter(
    route_class=AuthFirstRoute,
    responses=problem_responses(*PROTECTED),
    prefix="/v1/stats",
    tags=["statistics"],
)

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


# Bounds that keep every statistic finite: sums (and sums of squares) at most 1e150 in size, so
# their squares stay within a double; single quantities at most 1e15; scales at least 1e-9, so
# their reciprocals and squares neither overflow nor underflow to zero.
MAX_SUM = 1e150
MIN_SCALE = 1e-9
MAX_VARIANTS = 20
MAX_MINIMUM = 1_000_000
Sum = Annotated[float, Field(ge=-MAX_SUM, le=MAX_SUM, allow_inf_nan=False)]
Scale = Annotated[float, Field(ge=MIN_SCALE, le=MAX_MAGNITUDE, allow_inf_nan=False)]
Share = Annotated[float, Field(gt=0, lt=1)]
VariantKey = Annotated[SafeText, StringConstraints(min_length=1, max_length=64)]


class PriorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mean: Magnitude
    sd: Scale


class VariantStatsIn(BaseModel):
    """One variant's sufficient statistics; which fields are required depends on `kind`.
    Counts are whole numbers from 0 to 2**53, sums finite and at most 1e150 in size."""

    # Attribute docstrings become the fields' descriptions in the OpenAPI. Sums run over the
    # variant's exposed units: Y is a unit's value (mean) or numerator (ratio), X its
    # denominator (ratio), x its CUPED covariate.
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    key: VariantKey | None = None
    """The variant's name in the answer (default: its position)."""
    n: Count | None = None
    """Exposed units (every kind)."""
    conversions: Count | None = None
    """Units that converted (proportion)."""
    sum: Sum | None = None
    """Sum of Y (mean)."""
    sum_squares: Sum | None = None
    """Sum of Y squared (mean)."""
    numerator_sum: Sum | None = None
    """Sum of Y (ratio)."""
    numerator_sum_squares: Sum | None = None
    """Sum of Y squared (ratio)."""
    denominator_sum: Sum | None = None
    """Sum of X (ratio)."""
    denominator_sum_squares: Sum | None = None
    """Sum of X squared (ratio)."""
    cross_sum: Sum | None = None
    """Sum of Y times X (ratio)."""
    covariate_sum: Sum | None = None
    """Sum of x (CUPED, every kind)."""
    covariate_sum_squares: Sum | None = None
    """Sum of x squared (CUPED)."""
    covariate_cross_sum: Sum | None = None
    """Sum of Y times x; for a proportion, of the 0/1 conversion times x (CUPED)."""
    covariate_denominator_cross_sum: Sum | None = None
    """Sum of X times x (CUPED, ratio)."""
    pre_denominator_sum: Sum | None = None
    """Ratio CUPED's optional second covariate: sum of the pre-period denominator x2 (for AOV,
    each unit's orders before exposure); with it the four sums below, in every variant."""
    pre_denominator_sum_squares: Sum | None = None
    """Sum of x2 squared."""
    pre_denominator_cross_sum: Sum | None = None
    """Sum of Y times x2."""
    pre_denominator_denominator_cross_sum: Sum | None = None
    """Sum of X times x2."""
    covariate_pre_denominator_cross_sum: Sum | None = None
    """Sum of x times x2."""
    nonzero_units: Count | None = None
    """Units with a non-zero Y (mean) or X (ratio), such as the units with an order for AOV;
    the minimum-data gate and a ratio's degrees of freedom count them (default: every unit)."""


class MinimumsIn(BaseModel):
    """Least data before a comparison is read (docs/statistics.md): conversions in the two arms
    together (proportion), units with a value or denominator per arm (mean, ratio). Absent
    fields keep the defaults; `stats` checks the values."""

    model_config = ConfigDict(extra="forbid")
    conversions: Annotated[int, Field(ge=0, le=MAX_MINIMUM)] | None = None
    units: Annotated[int, Field(ge=0, le=MAX_MINIMUM)] | None = None


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
    variants: list[VariantStatsIn] = Field(min_length=2, max_length=MAX_VARIANTS)
    alpha: Share = 0.05
    alternative: Literal["two-sided", "greater", "less"] = "two-sided"
    planned_units_per_variant: int | None = Field(default=None, ge=2, le=MAX_COUNT)
    correction: Literal["holm", "bh", "none"] = "holm"
    prior: PriorIn | None = None
    weights: list[Scale] | None = Field(default=None, max_length=MAX_VARIANTS)
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

    baseline_rate: Share | None = None
    baseline_mean: Magnitude | None = None
    baseline_sd: Scale | None = None
    mde_relative: float = Field(gt=0, le=100)
    alpha: Share = 0.05
    power: Share = 0.8
    variants: int = Field(default=2, ge=2, le=MAX_VARIANTS)
    daily_units: Annotated[float, Field(ge=0.001, le=MAX_MAGNITUDE)] | None = None
    test: Literal["sequential", "fixed"] = "sequential"


# A calculator reads nothing stored: any key may use it, the SDK's as before and the readers'.
CalculatorKey = Annotated[
    KeyIdentity, Depends(RequireKey(*SDK_SCOPES, KeyScope.VIEWER, KeyScope.EDITOR))
]


@router.post("/analyze", response_model=AnalysisOut, response_model_exclude_unset=True)
def analyze(body: AnalyzeRequest, _key: CalculatorKey) -> dict[str, Any]:
    """Fixed-horizon, sequential and Bayesian readings of one metric, each variant vs the first."""
    result = stats.analyze(
        body.kind,
        [variant.model_dump(exclude_none=True) for variant in body.variants],
        alpha=body.alpha,
        alternative=body.alternative,
        planned_units_per_variant=body.planned_units_per_variant,
        correction=body.correction,
        prior=body.prior.model_dump() if body.prior else None,
        weights=body.weights,
        minimums=body.minimums.model_dump(exclude_none=True) if body.minimums else None,
    )
    return result.to_dict()


@router.post("/sample-size", response_model=SampleSizeOut)
def sample_size(body: SampleSizeRequest, _key: CalculatorKey) -> dict[str, Any]:
    """Units per variant (and days, given daily traffic) to detect `mde_relative`."""
    return stats.sample_size(**body.model_dump()).to_dict()
