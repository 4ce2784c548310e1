"""Plans that know CUPED: the primary metric's measured variance reduction shortens what "keep
running" counts towards, the words say so, and the sequential test keeps its tuning."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from experiments.results.render import plan_page
from experiments.results.types import MetricResult, PlanFacts
from experiments.results.verdict.decision import PlanProgress
from experiments.results.verdict.replan import plan_with_cuped
from experiments.results.words.plan_words import with_sentence
from stats import analyze
from tests.stats.helpers import proportion_stats, with_covariate

PLAN = PlanFacts(100_000, "design", 0.025, None, None, None, "conversion")


def _primary(loyal_share: float) -> MetricResult:
    """A conversion primary whose pre-period purchase predicts this one (loyal buyers)."""
    rng = np.random.default_rng(41)
    variants = []
    for key in ("control", "b"):
        loyal = rng.random(20_000) < loyal_share
        before = (rng.random(20_000) < np.where(loyal, 0.6, 0.01)).astype(float)
        after = (rng.random(20_000) < np.where(loyal, 0.6, 0.01)).astype(float)
        variants.append(with_covariate(proportion_stats(after, key), after, before))
    analysis = analyze("proportion", variants)
    return MetricResult("conversion_rate", "Purchase", "conversion", "increase", "primary", (),
                        analysis)  # fmt: skip


def test_keep_running_counts_towards_the_reduced_plan_and_says_so() -> None:
    primary = _primary(0.05)
    comparison = primary.analysis.comparisons[0] if primary.analysis else None
    assert comparison is not None and comparison.cuped is not None
    reduction = comparison.cuped.variance_reduction
    assert reduction > 0.1
    plan = with_sentence(plan_with_cuped(PLAN, primary), "visitor")
    assert plan.variance_reduction == pytest.approx(reduction)
    assert plan.cuped_units_per_variant == pytest.approx(100_000 * (1 - reduction), abs=1)
    assert plan.units_per_variant == 100_000  # the sequential test's tuning stays
    assert "(CUPED)" in plan.text and '"keep running" counts towards them' in plan.text
    progress = PlanProgress(plan.units_needed, 40_000, 2, 5_000.0)
    assert plan.cuped_units_per_variant is not None
    assert progress.additional_units() == plan.cuped_units_per_variant - 40_000
    page = plan_page(plan).as_json()
    assert page["variance_reduction"] == pytest.approx(reduction)
    assert page["cuped_units_per_variant"] == plan.cuped_units_per_variant


def test_without_a_useful_reduction_the_plan_is_unchanged() -> None:
    flat = _primary(0.0)  # the pre-period predicts nothing: a reduction of noise only
    assert plan_with_cuped(PLAN, flat) == PLAN
    assert "variance_reduction" not in plan_page(with_sentence(PLAN, "visitor")).as_json()
    listed = replace(PLAN, planned_from="list")
    assert plan_with_cuped(listed, _primary(0.05)) == listed
