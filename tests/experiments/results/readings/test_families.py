"""Families of metrics: the primary keeps its full alpha, the secondary metrics are corrected
together across metrics x arms, each guardrail keeps its own rule; the words follow the family."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.sim_families import secondary_family_aa
from experiments.results.readings.families import with_families
from experiments.results.render import metric_page
from experiments.results.types import MetricResult, Role
from experiments.results.words.tables import metric_rows
from stats import AnalysisResult, analyze
from tests.stats.helpers import statsmodels_adjusted


def _result(key: str, role: Role, analysis: AnalysisResult) -> MetricResult:
    return MetricResult(key, key, "conversion", "increase", role, analysis.variants, analysis)


def _proportions(rng: np.random.Generator, arms: int, lift: float = 0.0) -> AnalysisResult:
    rates = [0.05] + [0.05 * (1 + lift)] * (arms - 1)
    variants = [
        {"key": f"v{index}", "n": 4000, "conversions": int(rng.binomial(4000, rate))}
        for index, rate in enumerate(rates)
    ]
    return analyze("proportion", variants)


@pytest.mark.parametrize(("correction", "method"), [("bh", "fdr_bh"), ("holm", "holm")])
def test_secondary_p_values_are_adjusted_across_metrics_and_arms(
    correction: str, method: str
) -> None:
    rng = np.random.default_rng(3)
    results = [_result("primary", "primary", _proportions(rng, 3, 0.1))]
    results += [_result(f"s{i}", "secondary", _proportions(rng, 3, 0.08 * i)) for i in range(4)]
    results.append(_result("guard", "guardrail", _proportions(rng, 3)))
    read = with_families(results, correction, 0.05)  # type: ignore[arg-type]
    secondary = [
        (result, comparison)
        for result in read
        if result.role == "secondary" and result.analysis is not None
        for comparison in result.analysis.comparisons
    ]
    raw = [comparison.p_value for _, comparison in secondary]
    expected = statsmodels_adjusted(raw, method)
    sequential_raw = [comparison.sequential.p_value for _, comparison in secondary]
    sequential_expected = statsmodels_adjusted(sequential_raw, method)
    for (result, comparison), p_fixed, p_sequential in zip(
        secondary, expected, sequential_expected, strict=True
    ):
        family = result.families[comparison.variant]
        assert (family.family, family.correction, family.size) == ("secondary", correction, 8)
        assert family.p_value_adjusted == pytest.approx(p_fixed, rel=1e-12)
        assert family.sequential_p_value_adjusted == pytest.approx(p_sequential, rel=1e-12)
        assert family.significant == (p_fixed < 0.05)
    for result in (read[0], read[-1]):  # the primary and the guardrail: their own readings
        assert result.analysis is not None
        for comparison in result.analysis.comparisons:
            family = result.families[comparison.variant]
            assert family.correction == "within_metric" and family.family == result.role
            assert family.p_value_adjusted == comparison.p_value_adjusted
            assert family.sequential_significant == comparison.sequential.significant


def test_an_uncorrected_secondary_change_is_never_called_one() -> None:
    """Its own interval excludes 0, the family's correction does not: 'no clear change', a note
    naming the correction and the adjusted p-value, and the chance cell not deciding."""
    moved = analyze(
        "proportion", [{"key": "a", "n": 20000, "conversions": 1000},
                       {"key": "b", "n": 20000, "conversions": 1145}],
        planned_units_per_variant=20000,
    )  # fmt: skip
    assert moved.comparisons[0].sequential.significant
    flat = analyze(
        "proportion", [{"key": "a", "n": 20000, "conversions": 1000},
                       {"key": "b", "n": 20000, "conversions": 1003}],
    )  # fmt: skip
    results = [_result("moved", "secondary", moved)]
    results += [_result(f"flat{i}", "secondary", flat) for i in range(5)]
    read = with_families(results, "bh", 0.05)
    family = read[0].families["b"]
    assert not family.sequential_significant
    page = metric_page(read[0])
    comparison = page.comparisons[0]
    assert comparison.outcome == "no_clear_change"
    assert comparison.note is not None and "Benjamini-Hochberg over 6 readings" in comparison.note
    assert comparison.family is not None and comparison.family.family == "secondary"
    assert comparison.significant is True  # the comparison's own reading is served unchanged
    rows, notes = metric_rows(page, "NOK")
    assert "not enough evidence yet to decide" in rows[1][6]
    assert any(note.startswith("secondary family, Benjamini-Hochberg over 6") for note in notes)
    # Alone in its family it is a change.
    alone = metric_page(with_families(results[:1], "bh", 0.05)[0])
    assert alone.comparisons[0].outcome == "improved"


def test_one_primary_and_five_correlated_secondaries_hold_the_family_wise_rate() -> None:
    """A/A: "some secondary moved" at most 5 % (plus three Monte Carlo standard errors) with
    Benjamini-Hochberg over the family (uncorrected: 16 %, `benchmarks.sim_families`)."""
    corrected = secondary_family_aa(runs=200, units=2000, looks=3, seed=9, correction="bh")
    assert corrected.fixed <= 0.05 + 3 * corrected.standard_error(0.05)
    assert corrected.sequential <= 0.05 + 3 * corrected.standard_error(0.05)
