"""Immutable result types; ``to_dict`` gives the JSON form served by the HTTP API.

Every float in a ``to_dict`` output is finite or ``None``: undefined figures are
``None`` and the comparison's ``reason`` says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from stats.types import PlannedTest, Reason, StatisticsKind


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return value


class Interval(NamedTuple):
    """A point estimate with its interval; a ``None`` bound is unbounded on that side.

    A named tuple rather than a frozen dataclass: four are built per comparison on every
    request's hot path, and a frozen dataclass costs twice as much to build.
    """

    estimate: float | None
    ci_low: float | None
    ci_high: float | None

    def excludes(self, value: float) -> bool:
        """True when ``value`` lies strictly outside the interval."""
        if self.ci_low is not None and value < self.ci_low:
            return True
        return self.ci_high is not None and value > self.ci_high

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimate": _finite(self.estimate),
            "ci_low": _finite(self.ci_low),
            "ci_high": _finite(self.ci_high),
        }


UNDEFINED_INTERVAL = Interval(None, None, None)


@dataclass(frozen=True, slots=True)
class SequentialResult:
    """Always-valid reading: mixture-SPRT p-value and confidence sequences."""

    p_value: float | None
    absolute: Interval
    relative: Interval
    significant: bool
    p_value_adjusted: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "p_value": _finite(self.p_value),
            "p_value_adjusted": _finite(self.p_value_adjusted),
            "absolute": self.absolute.to_dict(),
            "relative": self.relative.to_dict(),
            "significant": self.significant,
        }


@dataclass(frozen=True, slots=True)
class BayesianResult:
    """Posterior reading on the relative uplift."""

    chance_to_beat: float | None
    expected_loss: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "chance_to_beat": _finite(self.chance_to_beat),
            "expected_loss": _finite(self.expected_loss),
        }


@dataclass(frozen=True, slots=True)
class CupedResult:
    """Share of the difference's variance removed by the covariate adjustment."""

    variance_reduction: float

    def to_dict(self) -> dict[str, Any]:
        return {"variance_reduction": _finite(self.variance_reduction)}


@dataclass(frozen=True, slots=True)
class Comparison:
    """One variant against the baseline (the control)."""

    variant: str
    baseline: str
    absolute: Interval
    relative: Interval
    p_value: float | None
    p_value_adjusted: float | None
    significant: bool
    sequential: SequentialResult
    bayesian: BayesianResult
    reason: Reason | None = None
    cuped: CupedResult | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "variant": self.variant,
            "baseline": self.baseline,
            "absolute": self.absolute.to_dict(),
            "relative": self.relative.to_dict(),
            "p_value": _finite(self.p_value),
            "p_value_adjusted": _finite(self.p_value_adjusted),
            "significant": self.significant,
            "sequential": self.sequential.to_dict(),
            "bayesian": self.bayesian.to_dict(),
            "reason": None if self.reason is None else self.reason.value,
        }
        if self.cuped is not None:
            data["cuped"] = self.cuped.to_dict()
        return data


@dataclass(frozen=True, slots=True)
class VariantSummary:
    """One variant's units and mean; for a mean or ratio metric read by ``analyze``, also the
    units its spread was estimated from (``effective_units``) and the rule that counted them
    (``effective_units_rule``: ``nonzero_units`` as given, or ``kish`` from the sums)."""

    key: str
    n: int
    mean: float | None
    effective_units: float | None = None
    effective_units_rule: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "n": self.n, "mean": _finite(self.mean)}
        if self.effective_units_rule is not None:
            data["effective_units"] = _finite(self.effective_units)
            data["effective_units_rule"] = self.effective_units_rule
        return data


@dataclass(frozen=True, slots=True)
class SrmResult:
    """Sample-ratio-mismatch check of the units per variant."""

    p_value: float
    mismatch: bool

    def to_dict(self) -> dict[str, Any]:
        return {"p_value": _finite(self.p_value), "mismatch": self.mismatch}


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    """Everything ``analyze`` computes for one metric of one experiment."""

    kind: StatisticsKind
    alpha: float
    variants: tuple[VariantSummary, ...]
    srm: SrmResult
    comparisons: tuple[Comparison, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "alpha": self.alpha,
            "variants": [variant.to_dict() for variant in self.variants],
            "srm": self.srm.to_dict(),
            "comparisons": [comparison.to_dict() for comparison in self.comparisons],
        }


@dataclass(frozen=True, slots=True)
class SampleSizeResult:
    """Units needed per variant and in total, and days at the given traffic."""

    units_per_variant: int
    total_units: int
    days: int | None = None
    test: PlannedTest = PlannedTest.SEQUENTIAL

    def to_dict(self) -> dict[str, Any]:
        return {
            "units_per_variant": self.units_per_variant,
            "total_units": self.total_units,
            "days": self.days,
            "test": self.test.value,
        }


@dataclass(frozen=True, slots=True)
class DetectableEffectResult:
    """Smallest true uplift detected with the requested power at a given size."""

    mde_relative: float
    mde_absolute: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "mde_relative": _finite(self.mde_relative),
            "mde_absolute": _finite(self.mde_absolute),
        }
