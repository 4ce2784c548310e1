"""Segments that differ under daily looks, simulated from raw units (small runs; the large
ones are `python -m benchmarks.sim_segments`, figures in docs/statistics.md).

Each bound is the nominal rate plus (or minus) three Monte Carlo standard errors at that rate.
"""

from __future__ import annotations

import math

import stats
from benchmarks.segment_simulations import SHOP_DIMENSIONS, mobile_only, segment_looks

DAYS = 30


def test_an_aa_test_with_four_dimensions_rarely_ever_reports_a_segment() -> None:
    """4 dimensions of 2, 3, 6 and 8 levels, a look every day for 30 days: any cell, any look."""
    found = segment_looks(
        SHOP_DIMENSIONS, baseline=0.05, daily_units=2000, days=DAYS, runs=40, seed=7
    )
    assert found.any_cell <= 0.05 + 3 * found.standard_error(0.05)


def test_an_effect_on_mobile_only_is_found_at_the_wholes_plan() -> None:
    """+20 % on mobile, 0 on desktop, mobile half the traffic, run to the whole's sequential
    plan for the average +10 % at 80 % power."""
    planned = stats.sample_size(mde_relative=0.1, baseline_rate=0.05).units_per_variant
    daily = math.ceil(2 * planned / DAYS)
    found = segment_looks(
        mobile_only(0.2)[:1], baseline=0.05, daily_units=daily, days=DAYS, runs=60, seed=8
    )
    assert found.target >= 0.7 - 3 * found.standard_error(0.7)
