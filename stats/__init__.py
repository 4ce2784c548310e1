"""Vekst's pure statistics engine: sufficient statistics in, immutable results out.

No I/O, no web, no database. Start with ``analyze`` (one metric, all variants; ``analyze_stats``
takes typed sums, ``analyze_many`` many such analyses at once) and ``sample_size`` /
``detectable_effect`` / ``days_to_run`` for planning; ``compare_segments`` tests whether an
effect differs by segment (exploratory).
"""

from stats.analysis import analyze, analyze_stats
from stats.bulk import analyze_many
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
    SegmentDifference,
    SegmentReport,
    SequentialResult,
    SrmResult,
    VariantSummary,
)
from stats.segments import compare_segments, segments_that_differ
from stats.types import (
    DEFAULT_MINIMUMS,
    STATISTIC_FIELDS,
    Alternative,
    AnalysisOptions,
    Correction,
    CovariateStats,
    LevelStats,
    MeanStats,
    Minimums,
    PlannedTest,
    Prior,
    ProportionStats,
    RatioStats,
    Reason,
    SegmentSkip,
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
    "LevelStats",
    "MeanStats",
    "StatisticsKind",
    "Minimums",
    "PlannedTest",
    "Prior",
    "ProportionStats",
    "RatioStats",
    "Reason",
    "SampleSizeResult",
    "SegmentDifference",
    "SegmentReport",
    "SegmentSkip",
    "SequentialResult",
    "SrmResult",
    "StatsInputError",
    "VariantInput",
    "VariantSummary",
    "analyze",
    "analyze_many",
    "analyze_stats",
    "compare_segments",
    "days_to_run",
    "detectable_effect",
    "sample_size",
    "segments_that_differ",
]
