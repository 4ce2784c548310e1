"""Segments that differ (`stats.segments`): the difference of a level's effect and the rest's
against a direct computation on raw units, its properties, and hostile sums."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from stats import (
    LevelStats,
    MeanStats,
    ProportionStats,
    RatioStats,
    Reason,
    SegmentSkip,
    StatsInputError,
    VariantInput,
    compare_segments,
    segments_that_differ,
)
from stats.segments import family_size
from tests.stats.helpers import FloatArray, assert_finite_floats

KEYS = ("control", "b")


def _units(kind: str, rng: np.random.Generator, size: int) -> tuple[FloatArray, FloatArray]:
    """Per-unit values (and denominators for a ratio) of one kind of metric."""
    if kind == "proportion":
        return (rng.random(size) < 0.1).astype(float), np.ones(size)
    if kind == "mean":
        return rng.lognormal(3.0, 1.0, size), np.ones(size)
    orders = rng.poisson(0.3, size).astype(float)
    return orders * rng.lognormal(6.5, 1.0, size), orders


def _sums(kind: str, values: FloatArray, denominators: FloatArray, key: str) -> VariantInput:
    n = int(values.size)
    if kind == "proportion":
        return VariantInput(key, ProportionStats(n, int(values.sum())))
    if kind == "mean":
        return VariantInput(key, MeanStats(n, float(values.sum()), float(values @ values)), None, n)
    ratio = RatioStats(
        n,
        float(values.sum()),
        float(values @ values),
        float(denominators.sum()),
        float(denominators @ denominators),
        float(values @ denominators),
    )
    return VariantInput(key, ratio, None, int(np.count_nonzero(denominators)))


def _mean_and_variance(
    kind: str, values: FloatArray, denominators: FloatArray
) -> tuple[float, float]:
    """An arm's mean and the variance of that mean, straight from its units."""
    if kind != "ratio":
        return float(np.mean(values)), float(scipy_stats.sem(values) ** 2)
    ratio = values.sum() / denominators.sum()
    linearised = (values - ratio * denominators) / np.mean(denominators)
    return float(ratio), float(np.var(linearised, ddof=1) / values.size)


@pytest.mark.parametrize("kind", ["proportion", "mean", "ratio"])
def test_the_difference_equals_a_direct_computation_on_the_raw_units(kind: str) -> None:
    rng = np.random.default_rng(23)
    size = 6000
    values, denominators = _units(kind, rng, size)
    variant = rng.integers(0, 2, size)
    level = rng.choice(np.array(["mobile", "desktop", "tablet"]), size, p=[0.5, 0.35, 0.15])
    whole = [
        _sums(kind, values[variant == arm], denominators[variant == arm], key)
        for arm, key in enumerate(KEYS)
    ]
    levels = [
        LevelStats(
            "device",
            name,
            [
                _sums(kind, values[mask], denominators[mask], key)
                for key, mask in (
                    (key, (variant == arm) & (level == name)) for arm, key in enumerate(KEYS)
                )
            ],
        )
        for name in ("mobile", "desktop", "tablet")
    ]
    report = compare_segments(whole, levels, planned_units_per_variant=size // 2)
    assert report.family == 3
    for cell in report.cells:
        assert cell.skipped is None
        sides = {}
        for side, inside in (("level", level == cell.level), ("rest", level != cell.level)):
            arms = [
                _mean_and_variance(
                    kind, values[inside & (variant == arm)], denominators[inside & (variant == arm)]
                )
                for arm in (0, 1)
            ]
            (control, control_var), (treatment, treatment_var) = arms
            sides[side] = (
                treatment / control,
                treatment - control,
                treatment_var / treatment**2 + control_var / control**2,
            )
        (level_ratio, level_absolute, level_var), (rest_ratio, rest_absolute, rest_var) = (
            sides["level"],
            sides["rest"],
        )
        assert cell.level_effect == pytest.approx(level_ratio - 1.0, rel=1e-9, abs=1e-12)
        assert cell.rest_effect == pytest.approx(rest_ratio - 1.0, rel=1e-9, abs=1e-12)
        assert cell.level_absolute_effect == pytest.approx(level_absolute, rel=1e-9, abs=1e-12)
        assert cell.rest_absolute_effect == pytest.approx(rest_absolute, rel=1e-9, abs=1e-12)
        assert cell.difference.estimate == pytest.approx(
            level_ratio / rest_ratio - 1.0, rel=1e-9, abs=1e-12
        )
        assert cell.standard_error is not None
        assert cell.standard_error**2 == pytest.approx(level_var + rest_var, rel=1e-9)


def _proportions(control: tuple[int, int], treatment: tuple[int, int]) -> list[VariantInput]:
    return [
        VariantInput("control", ProportionStats(*control)),
        VariantInput("b", ProportionStats(*treatment)),
    ]


WHOLE = _proportions((20_000, 1_000), (20_000, 1_100))


def _level(name: str, control: tuple[int, int], treatment: tuple[int, int]) -> LevelStats:
    return LevelStats("device", name, _proportions(control, treatment))


def test_an_effect_on_one_level_only_is_found_and_said_from_both_sides() -> None:
    """All of the +20 % on mobile: mobile +20 %, desktop 0; a two-level dimension is one test."""
    whole = _proportions((80_000, 4_000), (80_000, 4_400))
    levels = [
        _level("mobile", (40_000, 2_000), (40_000, 2_400)),
        _level("desktop", (40_000, 2_000), (40_000, 2_000)),
    ]
    found = segments_that_differ(whole, levels, planned_units_per_variant=80_000)
    assert [(cell.level, cell.rest_level) for cell in found] == [
        ("mobile", "desktop"),
        ("desktop", "mobile"),
    ]
    mobile, desktop = found
    assert mobile.level_effect == pytest.approx(0.2) and mobile.rest_effect == pytest.approx(0.0)
    assert mobile.p_value == desktop.p_value
    assert (1 + (mobile.difference.estimate or 0)) * (1 + (desktop.difference.estimate or 0)) == (
        pytest.approx(1.0)
    )


def test_differs_agrees_with_the_interval_and_the_bonferroni_family() -> None:
    rng = np.random.default_rng(5)
    for _ in range(40):
        lifts = rng.normal(0.0, 0.15, 3)
        controls = [int(rng.binomial(6000, 0.05)) for _ in lifts]
        treatments = [int(rng.binomial(6000, min(0.05 * (1 + lift), 0.9))) for lift in lifts]
        levels = [
            _level(name, (6000, control), (6000, treatment))
            for name, control, treatment in zip(("a", "b", "c"), controls, treatments, strict=True)
        ]
        whole = _proportions((18_000, sum(controls)), (18_000, sum(treatments)))
        report = compare_segments(whole, levels, planned_units_per_variant=18_000)
        assert report.family == 3
        for cell in report.cells:
            assert cell.p_value is not None and cell.p_value_adjusted is not None
            assert cell.p_value_adjusted == min(1.0, 3 * cell.p_value)
            assert cell.differs == (cell.p_value_adjusted < 0.05)
            assert cell.differs == cell.difference.excludes(0.0)


def test_the_family_counts_distinct_hypotheses() -> None:
    def dimension(name: str, count: int) -> list[LevelStats]:
        return [LevelStats(name, f"{name}{index}", []) for index in range(count)]

    levels = dimension("device", 2) + dimension("market", 8) + dimension("only", 1)
    assert family_size(levels, comparisons=1) == 1 + 8
    assert family_size(levels, comparisons=3) == 27
    assert family_size([], comparisons=2) == 1


@pytest.mark.parametrize(
    ("level", "reason", "side"),
    [
        (_level("tablet", (0, 0), (0, 0)), Reason.NOT_ENOUGH_DATA, "level"),
        (LevelStats("device", "tablet", WHOLE[:1]), SegmentSkip.VARIANT_MISSING, "level"),
        (_level("tablet", (20_000, 1_000), (20_000, 1_100)), SegmentSkip.NO_REST, "rest"),
        (_level("tablet", (30_000, 1_000), (2_000, 100)), SegmentSkip.INCONSISTENT_SUMS, "rest"),
        (_level("tablet", (2_000, 1_500), (2_000, 100)), SegmentSkip.INCONSISTENT_SUMS, "rest"),
        (_level("tablet", (50, 2), (50, 3)), Reason.NOT_ENOUGH_DATA, "level"),
        (_level("tablet", (5_000, 7_000), (5_000, 10)), SegmentSkip.INCONSISTENT_SUMS, "level"),
        (
            LevelStats(
                "device",
                "tablet",
                [VariantInput("control", MeanStats(10, 5.0, 5.0)), WHOLE[1]],
            ),
            SegmentSkip.INCONSISTENT_SUMS,
            "level",
        ),
        (
            LevelStats(
                "device",
                "tablet",
                [
                    VariantInput("control", ProportionStats(10, 1)),
                    VariantInput("b", ProportionStats(1, 0)),
                ],
            ),
            Reason.NOT_ENOUGH_DATA,
            "level",
        ),
    ],
)
def test_hostile_levels_leave_the_cell_untested_with_a_reason(
    level: LevelStats, reason: Reason | SegmentSkip, side: str
) -> None:
    (cell,) = compare_segments(WHOLE, [level]).cells
    assert (cell.skipped, cell.skipped_in) == (reason, side)
    assert not cell.differs and cell.p_value is None and cell.difference.ci_low is None
    assert_finite_floats(cell.to_dict())


def test_all_zero_conversions_are_not_tested() -> None:
    whole = _proportions((2_000, 0), (2_000, 0))
    levels = [_level("mobile", (1_000, 0), (1_000, 0)), _level("desktop", (1_000, 0), (1_000, 0))]
    for cell in compare_segments(whole, levels).cells:
        assert (cell.skipped, cell.skipped_in) == (Reason.NO_CONVERSIONS, "level")


def test_counts_near_two_to_the_53_give_finite_figures() -> None:
    huge = 2**53 - 2
    whole = _proportions((huge, huge // 20), (huge, huge // 19))
    levels = [
        _level("mobile", (huge // 2, huge // 40), (huge // 2, huge // 38)),
        _level(
            "desktop",
            (huge - huge // 2, huge // 20 - huge // 40),
            (huge - huge // 2, huge // 19 - huge // 38),
        ),
    ]
    report = compare_segments(whole, levels, planned_units_per_variant=huge)
    for cell in report.cells:
        assert cell.skipped is None
        assert_finite_floats(cell.to_dict())


def test_means_at_or_below_zero_and_empty_denominators_are_not_tested() -> None:
    whole = [VariantInput(key, MeanStats(200, 0.0, 400.0), None, 200) for key in KEYS]
    level = LevelStats(
        "device",
        "mobile",
        [VariantInput(key, MeanStats(100, -50.0, 200.0), None, 100) for key in KEYS],
    )
    (cell,) = compare_segments(whole, [level]).cells
    assert cell.skipped is SegmentSkip.MEAN_NOT_POSITIVE
    ratio_whole = [
        VariantInput(key, RatioStats(200, 50.0, 100.0, 20.0, 20.0, 20.0), None, 20) for key in KEYS
    ]
    empty = [VariantInput(key, RatioStats(100, 0.0, 0.0, 0.0, 0.0, 0.0), None, 0) for key in KEYS]
    (cell,) = compare_segments(ratio_whole, [LevelStats("device", "mobile", empty)]).cells
    assert (cell.skipped, cell.skipped_in) == (Reason.DENOMINATOR_ZERO, "level")


def test_an_invalid_whole_is_refused_naming_the_field() -> None:
    with pytest.raises(StatsInputError) as raised:
        compare_segments(_proportions((20, 30), (20, 1)), [])
    assert raised.value.field == "variants[0].conversions"


COUNT = st.integers(min_value=0, max_value=2**53)


@settings(max_examples=150, deadline=None)
@given(
    whole=st.tuples(COUNT, COUNT, COUNT, COUNT),
    level=st.tuples(COUNT, COUNT, COUNT, COUNT),
)
def test_any_counts_give_cells_without_exceptions(
    whole: tuple[int, int, int, int], level: tuple[int, int, int, int]
) -> None:
    control_n, treatment_n = max(whole[0], 2), max(whole[2], 2)
    whole_sums = _proportions(
        (control_n, min(whole[1], control_n)), (treatment_n, min(whole[3], treatment_n))
    )
    levels = [_level("mobile", level[:2], level[2:]), _level("desktop", (0, 0), (3, 1))]
    report = compare_segments(whole_sums, levels)
    for cell in report.cells:
        assert_finite_floats(cell.to_dict())
        assert cell.differs == (cell.p_value_adjusted is not None and cell.p_value_adjusted < 0.05)
        assert math.isfinite(cell.level_units) and cell.level_units >= 0


SUM = st.floats(min_value=-1.7e308, max_value=1.7e308, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(n=st.tuples(COUNT, COUNT), sums=st.tuples(SUM, SUM, SUM, SUM))
def test_any_mean_sums_in_a_level_give_cells_without_exceptions(
    n: tuple[int, int], sums: tuple[float, float, float, float]
) -> None:
    whole = [VariantInput(key, MeanStats(1000, 5000.0, 50_000.0), None, 1000) for key in KEYS]
    level = LevelStats(
        "market",
        "SE",
        [
            VariantInput("control", MeanStats(n[0], sums[0], abs(sums[1])), None, n[0]),
            VariantInput("b", MeanStats(n[1], sums[2], abs(sums[3])), None, n[1]),
        ],
    )
    for cell in compare_segments(whole, [level, LevelStats("market", "NO", [])]).cells:
        assert_finite_floats(cell.to_dict())
        assert not cell.differs or cell.skipped is None
