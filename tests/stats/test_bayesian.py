"""Bayesian reading on the relative uplift."""

from __future__ import annotations

import numpy as np
import pytest

from stats import Prior, analyze
from stats.bayesian import gaussian_reading, posterior, relative_likelihood
from stats.estimates import ArmEstimate
from stats.types import Alternative

CONTROL = ArmEstimate(0.025, 0.025 * 0.975 / 9999, 10000, 9999)
TREATMENT = ArmEstimate(0.028, 0.028 * 0.972 / 9999, 10000, 9999)


def test_chance_and_loss_match_monte_carlo_of_the_posterior() -> None:
    likelihood = relative_likelihood(CONTROL, TREATMENT)
    assert likelihood is not None
    reading = gaussian_reading(CONTROL, TREATMENT, None, Alternative.TWO_SIDED)
    draws = np.random.default_rng(5).normal(likelihood[0], np.sqrt(likelihood[1]), 400_000)
    assert reading.chance_to_beat == pytest.approx((draws > 0).mean(), abs=3e-3)
    assert reading.expected_loss == pytest.approx(np.maximum(0, -draws).mean(), rel=0.03)


def test_proper_prior_shrinks_towards_its_mean() -> None:
    likelihood = relative_likelihood(CONTROL, TREATMENT)
    assert likelihood is not None
    flat_mean, flat_sd = posterior(likelihood, None)
    shrunk_mean, shrunk_sd = posterior(likelihood, Prior(0.0, 0.05))
    assert 0 < shrunk_mean < flat_mean and shrunk_sd < flat_sd
    wide_mean, _ = posterior(likelihood, Prior(0.0, 1e6))
    assert wide_mean == pytest.approx(flat_mean, rel=1e-6)


def test_lower_is_better_flips_the_chance() -> None:
    up = gaussian_reading(CONTROL, TREATMENT, None, Alternative.TWO_SIDED)
    down = gaussian_reading(CONTROL, TREATMENT, None, Alternative.LESS)
    assert up.chance_to_beat is not None and down.chance_to_beat is not None
    assert up.chance_to_beat + down.chance_to_beat == pytest.approx(1.0)


def test_every_variant_gets_a_reading() -> None:
    result = analyze(
        "proportion",
        [
            {"n": 5000, "conversions": 100},
            {"n": 5000, "conversions": 120},
            {"n": 5000, "conversions": 90},
        ],
        prior={"mean": 0.0, "sd": 0.3},
    )
    chances = [c.bayesian.chance_to_beat for c in result.comparisons]
    assert chances[0] is not None and chances[1] is not None
    assert chances[0] > 0.5 > chances[1]
