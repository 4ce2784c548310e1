"""Stage 3b of a look: each comparison read as one of its family of metrics.

A checkout test carries a primary metric, a few secondary ones and guardrails. Corrected only
across arms, five secondary metrics give "some secondary moved" in about one A/A test in four.
So the families are read apart (as Eppo splits alpha and GrowthBook, Statsig and Optimizely
correct across metrics):

- the primary metric keeps its full alpha: it decides, corrected across its arms only;
- the secondary metrics are one family, corrected together across metrics x arms with the
  design's `secondary_correction` (Benjamini-Hochberg by default, `holm` or `none`), on the
  fixed-horizon p-values and on the running always-valid sequential ones alike;
- each guardrail is judged on its own rule, as the verdict reads it (`verdict.guardrails`).

The comparisons' own readings stay as `stats` gave them; the family's adjusted p-values are
added beside them, and the words call a secondary metric "improved" or "worsened" only when
its family reading is significant.
"""

from __future__ import annotations

from dataclasses import replace

from experiments.results.types import FamilyCorrection, FamilyReading, MetricResult
from stats import Correction
from stats.corrections import adjust

_CORRECTIONS: dict[str, Correction] = {
    "bh": Correction.BENJAMINI_HOCHBERG,
    "holm": Correction.HOLM,
    "none": Correction.NONE,
}


def with_families(
    results: list[MetricResult], secondary_correction: FamilyCorrection, alpha: float
) -> list[MetricResult]:
    """The look's metric results, each comparison with its `FamilyReading` (the secondary
    metrics' adjusted over all of their comparisons with a reading)."""
    secondary = [
        (index, comparison)
        for index, result in enumerate(results)
        if result.role == "secondary" and result.analysis is not None
        for comparison in result.analysis.comparisons
    ]
    correction = _CORRECTIONS[secondary_correction]
    fixed = adjust([comparison.p_value for _, comparison in secondary], correction)
    sequential = adjust([comparison.sequential.p_value for _, comparison in secondary], correction)
    size = sum(comparison.sequential.p_value is not None for _, comparison in secondary)
    family: dict[int, dict[str, FamilyReading]] = {}
    for (index, comparison), p_fixed, p_sequential in zip(
        secondary, fixed, sequential, strict=True
    ):
        family.setdefault(index, {})[comparison.variant] = FamilyReading(
            "secondary",
            secondary_correction,
            size,
            p_fixed,
            p_fixed is not None and p_fixed < alpha,
            p_sequential,
            p_sequential is not None and p_sequential < alpha,
        )
    return [
        replace(result, families=family.get(index) or _own_family(result))
        for index, result in enumerate(results)
    ]


def _own_family(result: MetricResult) -> dict[str, FamilyReading]:
    """The primary metric's or a guardrail's comparisons: their own readings, corrected across
    the metric's arms only (nothing for a secondary metric without an analysis)."""
    if result.analysis is None or result.role == "secondary":
        return {}
    comparisons = result.analysis.comparisons
    size = sum(comparison.sequential.p_value is not None for comparison in comparisons)
    return {
        comparison.variant: FamilyReading(
            result.role,
            "within_metric",
            size,
            comparison.p_value_adjusted,
            comparison.significant,
            comparison.sequential.p_value_adjusted,
            comparison.sequential.significant,
        )
        for comparison in comparisons
    }
