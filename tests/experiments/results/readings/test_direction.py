"""Lower-is-better metrics: the chance to beat and the expected loss turn round with the
direction, checked against scipy on raw simulated data and against stats' own one-sided path."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from experiments.metrics import builtin_metrics
from experiments.results.readings.direction import movement, oriented
from experiments.results.readings.metric_analysis import analyse_metric
from experiments.results.render import metric_page
from experiments.results.sums.aggregation import VariantSums
from stats import AnalysisOptions, RatioStats, analyze

OPTIONS = AnalysisOptions(alpha=0.05, weights=(1.0, 1.0), planned_units_per_variant=20_000)


def proportion_sums(n: int, conversions: int) -> VariantSums:
    c = float(conversions)
    return VariantSums(RatioStats(n, c, c, float(n), float(n), c))


def test_fewer_unsubscribes_beat_the_control_on_raw_data() -> None:
    rng = np.random.default_rng(17)
    control = rng.random(8000) < 0.010
    variant = rng.random(8000) < 0.007  # fewer unsubscribes: better
    metric = builtin_metrics()["unsubscribe_rate"]
    sums = {
        "control": proportion_sums(8000, int(control.sum())),
        "variant": proportion_sums(8000, int(variant.sum())),
    }
    result = analyse_metric(metric, "guardrail", sums, OPTIONS)
    assert result.analysis is not None
    reading = result.analysis.comparisons[0].bayesian
    # The normal posterior of the relative change r = mean_v / mean_c - 1 (delta method).
    mean_c, mean_v = control.mean(), variant.mean()
    var_c = control.var(ddof=1) / len(control)
    var_v = variant.var(ddof=1) / len(variant)
    r = mean_v / mean_c - 1
    sd = np.sqrt(var_v / mean_c**2 + mean_v**2 * var_c / mean_c**4)
    lower = scipy_stats.norm(r, sd)
    assert reading.chance_to_beat == pytest.approx(lower.cdf(0.0), rel=1e-6)
    rise = scipy_stats.norm.expect(lambda x: max(x, 0.0), loc=r, scale=sd)
    assert reading.expected_loss == pytest.approx(rise, rel=1e-4, abs=1e-9)
    assert reading.chance_to_beat is not None and reading.chance_to_beat > 0.9


@settings(max_examples=60, deadline=None)
@given(
    st.integers(200, 20_000),
    st.floats(0.01, 0.5),
    st.floats(0.01, 0.5),
)
def test_lower_is_better_equals_the_one_sided_less_reading(
    n: int, rate_c: float, rate_v: float
) -> None:
    inputs = [
        {"key": "control", "n": n, "conversions": round(n * rate_c)},
        {"key": "variant", "n": n, "conversions": round(n * rate_v)},
    ]
    flipped = oriented(analyze("proportion", inputs), "decrease").comparisons[0].bayesian
    less = analyze("proportion", inputs, alternative="less").comparisons[0].bayesian
    if less.chance_to_beat is None or less.expected_loss is None:
        # Too little data for a reading (the minimum-data gates): none either way round.
        assert (flipped.chance_to_beat, flipped.expected_loss) == (None, None)
        return
    assert flipped.chance_to_beat == pytest.approx(less.chance_to_beat, abs=1e-12)
    assert flipped.expected_loss == pytest.approx(less.expected_loss, rel=1e-9, abs=1e-12)


def test_higher_is_better_is_left_as_stats_computed_it() -> None:
    inputs = [
        {"key": "a", "n": 5000, "conversions": 120},
        {"key": "b", "n": 5000, "conversions": 150},
    ]
    analysis = analyze("proportion", inputs)
    assert oriented(analysis, "increase") is analysis


def test_outcome_and_json_follow_the_direction() -> None:
    metric = builtin_metrics()["refund_rate"]
    fell = {"control": proportion_sums(10_000, 400), "treatment": proportion_sums(10_000, 250)}
    rose = {"control": proportion_sums(10_000, 250), "treatment": proportion_sums(10_000, 400)}
    better = analyse_metric(metric, "guardrail", fell, OPTIONS)
    worse = analyse_metric(metric, "guardrail", rose, OPTIONS)
    assert better.analysis is not None and worse.analysis is not None
    assert movement("decrease", better.analysis.comparisons[0]) == "improved"
    assert movement("decrease", worse.analysis.comparisons[0]) == "worsened"
    better_json = metric_page(better).model_dump(mode="json")["comparisons"][0]
    worse_json = metric_page(worse).model_dump(mode="json")["comparisons"][0]
    # A guardrail shown to improve says so (issue 30): not "not harmed (shown within ...)".
    assert better_json["outcome"] == "improved" and better_json["guardrail"].startswith("improved")
    assert worse_json["outcome"] == "worsened" and worse_json["guardrail"] == "harmed"
    assert better_json["bayesian"]["chance_to_beat"] > 0.99
    assert worse_json["bayesian"]["chance_to_beat"] < 0.01
