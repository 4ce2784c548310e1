"""Sample ratio mismatch against scipy, and p-value adjustments against statsmodels."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from stats import Correction, analyze
from stats.corrections import adjust
from stats.srm import sample_ratio_check
from tests.stats.helpers import statsmodels_adjusted


@settings(max_examples=100, deadline=None)
@given(
    units=st.lists(st.integers(1, 10**6), min_size=2, max_size=8),
    data=st.data(),
)
def test_srm_matches_scipy_chisquare(units: list[int], data: st.DataObject) -> None:
    weights = data.draw(st.lists(st.floats(0.05, 1.0), min_size=len(units), max_size=len(units)))
    total = sum(weights)
    normalised = [w / total for w in weights]
    expected = scipy_stats.chisquare(units, [sum(units) * w for w in normalised])
    result = sample_ratio_check(units, normalised)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-7, abs=1e-300)
    assert result.mismatch == (expected.pvalue < 0.001)


def test_analyze_flags_a_broken_split() -> None:
    balanced = analyze(
        "proportion", [{"n": 10000, "conversions": 10}, {"n": 10100, "conversions": 10}]
    )
    broken = analyze(
        "proportion", [{"n": 10000, "conversions": 10}, {"n": 10600, "conversions": 10}]
    )
    weighted = analyze(
        "proportion",
        [{"n": 10000, "conversions": 10}, {"n": 30000, "conversions": 10}],
        weights=[1, 3],
    )
    assert not balanced.srm.mismatch
    assert broken.srm.mismatch
    assert not weighted.srm.mismatch


@pytest.mark.parametrize(
    ("correction", "method"), [(Correction.HOLM, "holm"), (Correction.BENJAMINI_HOCHBERG, "fdr_bh")]
)
@settings(max_examples=30, deadline=None)
@given(p_values=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=12))
def test_adjustments_match_statsmodels(
    correction: Correction, method: str, p_values: list[float]
) -> None:
    expected = statsmodels_adjusted(p_values, method)
    assert adjust(p_values, correction) == pytest.approx(expected, abs=1e-12)


def test_adjusted_p_values_sit_next_to_raw_ones_and_drive_significance() -> None:
    variants = [
        {"n": 20000, "conversions": 500},
        {"n": 20000, "conversions": 580},
        {"n": 20000, "conversions": 560},
        {"n": 20000, "conversions": 505},
    ]
    result = analyze("proportion", variants)
    raw = [c.p_value for c in result.comparisons]
    adjusted = [c.p_value_adjusted for c in result.comparisons]
    assert all(p is not None for p in raw)
    assert adjusted == pytest.approx(statsmodels_adjusted(raw, "holm"))
    for comparison in result.comparisons:
        assert comparison.p_value_adjusted is not None
        assert comparison.significant == (comparison.p_value_adjusted < 0.05)
    unadjusted = analyze("proportion", variants, correction="none")
    assert [c.p_value_adjusted for c in unadjusted.comparisons] == raw


def test_srm_on_astronomical_counts_stays_finite() -> None:
    """The chi-square statistic used to raise OverflowError once (o - e)^2 passed 1e308."""
    result = sample_ratio_check([10**200, 10**200 + 10**199], [0.5, 0.5])
    assert result.p_value == 0.0 and result.mismatch
    assert sample_ratio_check([10**200, 10**200], [0.5, 0.5]).p_value == pytest.approx(1.0)
