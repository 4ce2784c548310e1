"""Vekst's pure statistics engine: sufficient statistics in, immutable results out.

No I/O, no web, no database. Start with ``analyze`` (one metric, all variants)
and ``sample_size`` / ``detectable_effect`` / ``days_to_run`` for planning.
"""

from stats.analysis import analyze
from stats.errors import StatsInputError
from stats.power import days_to_run, detectable_effect, sample_size
from stats.results import (
    AnalysisResult,
    BayesianResult,
    Comparison,
    CupedResult,
    DetectableEffectResult,
    Interval,
    SampleSizeResult,
    SequentialResult,
    SrmResult,
    VariantSummary,
)
from stats.types import (
    DEFAULT_MINIMUMS,
    STATISTIC_FIELDS,
    Alternative,
    Correction,
    CovariateStats,
    MeanStats,
    MetricKind,
    Minimums,
    PlannedTest,
    Prior,
    ProportionStats,
    RatioStats,
    Reason,
)

__all__ = [
    "DEFAULT_MINIMUMS",
    "STATISTIC_FIELDS",
    "Alternative",
    "AnalysisResult",
    "BayesianResult",
    "Comparison",
    "Correction",
    "CovariateStats",
    "CupedResult",
    "DetectableEffectResult",
    "Interval",
    "MeanStats",
    "MetricKind",
    "Minimums",
    "PlannedTest",
    "Prior",
    "ProportionStats",
    "RatioStats",
    "Reason",
    "SampleSizeResult",
    "SequentialResult",
    "SrmResult",
    "StatsInputError",
    "VariantSummary",
    "analyze",
    "days_to_run",
    "detectable_effect",
    "sample_size",
]
