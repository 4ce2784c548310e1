"""Vekst's pure statistics engine: sufficient statistics in, immutable results out.

No I/O, no web, no database. Start with ``analyze`` (one metric, all variants; ``analyze_stats``
takes typed sums) and ``sample_size`` / ``detectable_effect`` / ``days_to_run`` for planning.
"""

from stats.analysis import analyze, analyze_stats
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
    AnalysisOptions,
    Correction,
    CovariateStats,
    MeanStats,
    Minimums,
    PlannedTest,
    Prior,
    ProportionStats,
    RatioStats,
    Reason,
    StatisticsKind,
    VariantInput,
)

__all__ = [
    "DEFAULT_MINIMUMS",
    "STATISTIC_FIELDS",
    "Alternative",
    "AnalysisOptions",
    "AnalysisResult",
    "BayesianResult",
    "Comparison",
    "Correction",
    "CovariateStats",
    "CupedResult",
    "DetectableEffectResult",
    "Interval",
    "MeanStats",
    "StatisticsKind",
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
    "VariantInput",
    "VariantSummary",
    "analyze",
    "analyze_stats",
    "days_to_run",
    "detectable_effect",
    "sample_size",
]
