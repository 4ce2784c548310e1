"""Immutable result types; ``to_dict`` gives the JSON form served by the HTTP API.

Every float in a ``to_dict`` output is finite or ``None``: undefined figures are
``None`` and the comparison's ``reason`` says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from stats.types import PlannedTest, QuantileKind, Reason, SegmentSkip, StatisticsKind

SegmentSide = Literal["level", "rest"]
"""Where the reason a segment cell is not tested lies: in the level or in the rest."""


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
    """Everything ``analyze`` (or ``stats.quantile_analysis``) computes for one metric of one
    experiment."""

    kind: StatisticsKind | QuantileKind
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


@dataclass(frozen=True, slots=True)
class SegmentDifference:
    """One (dimension, level, variant) cell: the variant's effect inside the level against its
    effect in the rest of the units, read by ``stats.segments.compare_segments``.

    Effects are relative (treatment / control - 1); ``difference`` is how much larger the
    level's treatment-to-control ratio is than the rest's, ``(1 + level_effect) / (1 +
    rest_effect) - 1``, with its always-valid interval at the corrected level (the test runs on
    its logarithm, whose standard error is ``standard_error``); the absolute effects (in the
    metric's units) are there for the words. ``rest_level`` names the other level when the
    dimension has exactly two (so "+12 % on desktop, -9 % on mobile" can be said), else None
    ("the rest"). An untested cell has ``skipped`` (and ``skipped_in``: ``level`` or ``rest``
    when the reason lies on one side), null figures where they are undefined, ``differs``
    false.
    """

    dimension: str
    level: str
    variant: str
    baseline: str
    rest_level: str | None
    level_units: int
    rest_units: int
    level_effect: float | None
    rest_effect: float | None
    level_absolute_effect: float | None
    rest_absolute_effect: float | None
    difference: Interval
    standard_error: float | None
    p_value: float | None
    p_value_adjusted: float | None
    differs: bool
    skipped: Reason | SegmentSkip | None = None
    skipped_in: SegmentSide | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "dimension": self.dimension,
            "level": self.level,
            "variant": self.variant,
            "baseline": self.baseline,
            "rest_level": self.rest_level,
            "level_units": self.level_units,
            "rest_units": self.rest_units,
            "level_effect": _finite(self.level_effect),
            "rest_effect": _finite(self.rest_effect),
            "level_absolute_effect": _finite(self.level_absolute_effect),
            "rest_absolute_effect": _finite(self.rest_absolute_effect),
            "difference": self.difference.to_dict(),
            "standard_error": _finite(self.standard_error),
            "p_value": _finite(self.p_value),
            "p_value_adjusted": _finite(self.p_value_adjusted),
            "differs": self.differs,
            "skipped": None if self.skipped is None else self.skipped.value,
            "skipped_in": self.skipped_in,
        }


@dataclass(frozen=True, slots=True)
class SegmentReport:
    """Every cell of one look's segment tests, with the family the correction counted."""

    alpha: float
    family: int
    """Hypotheses Bonferroni divides alpha by (see ``stats.segments``)."""
    cells: tuple[SegmentDifference, ...]

    @property
    def that_differ(self) -> tuple[SegmentDifference, ...]:
        """The cells whose difference is unlikely by chance, smallest adjusted p-value first."""
        found = [cell for cell in self.cells if cell.differs]
        return tuple(sorted(found, key=lambda cell: cell.p_value_adjusted or 0.0))

    def to_dict(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "family": self.family,
            "cells": [cell.to_dict() for cell in self.cells],
        }
