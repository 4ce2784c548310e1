"""Result types of the results pipeline; `to_dict` gives the JSON served by the API.

The comparisons of a metric are exactly `stats.analyze(...).to_dict()["comparisons"]`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from stats import AnalysisResult

Role = Literal["primary", "secondary", "guardrail"]


class Verdict(StrEnum):
    SHIP = "ship"
    STOP = "stop"
    KEEP_RUNNING = "keep_running"
    INCONCLUSIVE = "inconclusive"


class MetricIssue(StrEnum):
    """Why a metric has no comparisons, or no reading in some; the rest of the page is still
    computed."""

    NOT_ENOUGH_UNITS = "not_enough_units"
    INVALID_STATISTICS = "invalid_statistics"
    # The metric is analysed, but some comparison has too little data for a reading yet.
    NOT_ENOUGH_DATA = "not_enough_data"


@dataclass(frozen=True, slots=True)
class VariantValue:
    key: str
    n: int
    value: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "n": self.n, "value": self.value}


@dataclass(frozen=True, slots=True)
class PercentileCap:
    """A cap given as a percentile and the per-unit value it came to (None: no unit had one)."""

    percentile: float
    value: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"percentile": self.percentile, "value": self.value}


@dataclass(frozen=True, slots=True)
class MetricResult:
    """One metric of the experiment: its value per variant and the statistics' comparisons.

    `analysis` is None when the metric could not be analysed; `issue` and `detail` say why
    (`not_enough_data` comes with an analysis whose thin comparisons carry no reading).
    `cap` is the per-unit cap a percentile cap came to, with that percentile.
    """

    metric: str
    name: str
    kind: str
    direction: Literal["increase", "decrease"]
    role: Role
    variants: tuple[VariantValue, ...]
    analysis: AnalysisResult | None
    issue: MetricIssue | None = None
    detail: str | None = None
    cap: PercentileCap | None = None

    def to_dict(self) -> dict[str, Any]:
        comparisons = [] if self.analysis is None else self.analysis.to_dict()["comparisons"]
        return {
            "metric": self.metric,
            "name": self.name,
            "kind": self.kind,
            "direction": self.direction,
            "role": self.role,
            "variants": [variant.to_dict() for variant in self.variants],
            "comparisons": comparisons,
            "reason": None if self.issue is None else self.issue.value,
            "detail": self.detail,
            "cap": None if self.cap is None else self.cap.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    variant: str | None
    reason: str
    additional_units_per_variant: int | None = None
    additional_days: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "verdict": self.verdict.value,
            "variant": self.variant,
            "reason": self.reason,
        }
        if self.verdict is Verdict.KEEP_RUNNING:
            data["additional_units_per_variant"] = self.additional_units_per_variant
            data["additional_days"] = self.additional_days
        return data


@dataclass(frozen=True, slots=True)
class Srm:
    p_value: float | None
    mismatch: bool

    def to_dict(self) -> dict[str, Any]:
        return {"p_value": self.p_value, "mismatch": self.mismatch}


@dataclass(frozen=True, slots=True)
class ExperimentResults:
    experiment: str
    status: str
    computed_at: datetime
    as_of: datetime
    srm: Srm
    warnings: tuple[str, ...]
    metrics: tuple[MetricResult, ...]
    decision: Decision
    summary: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment,
            "status": self.status,
            "computed_at": self.computed_at.isoformat(),
            "as_of": self.as_of.isoformat(),
            "srm": self.srm.to_dict(),
            "warnings": list(self.warnings),
            "metrics": [metric.to_dict() for metric in self.metrics],
            "decision": self.decision.to_dict(),
            "summary": self.summary,
        }


@dataclass(frozen=True, slots=True)
class TimeseriesPoint:
    date: str
    as_of: datetime
    result: MetricResult

    def to_dict(self) -> dict[str, Any]:
        data = self.result.to_dict()
        return {
            "date": self.date,
            "as_of": self.as_of.isoformat(),
            "variants": data["variants"],
            "comparisons": data["comparisons"],
            "reason": data["reason"],
        }


@dataclass(frozen=True, slots=True)
class Timeseries:
    experiment: str
    metric: str
    kind: str
    direction: str
    points: tuple[TimeseriesPoint, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment,
            "metric": self.metric,
            "kind": self.kind,
            "direction": self.direction,
            "points": [point.to_dict() for point in self.points],
        }
