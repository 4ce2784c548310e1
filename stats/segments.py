"""Segments that differ: is a variant's effect inside one level of a dimension different from
its effect in the rest of the units?

For each (dimension, level, variant) cell the test compares the level's relative effect
``r_L = m_t / m_c - 1`` with the rest's ``r_R`` (the rest = the whole minus the level, sum by
sum) on the log scale: ``d = log(1 + r_L) - log(1 + r_R)``, whose delta-method variance is
``V = sum over the four arms of v / m^2`` (the level's and the rest's units are disjoint). On
that scale a thin arm with few conversions has a large variance, not a small one, so chance
drops in a thin level are not read as differences (on the plain relative scale they were: 10 %
of A/A runs). ``d`` is read by the engine's normal-mixture test (``stats.sequential``), so the
p-value and the interval stay valid at every look. The mixture is tuned like the whole's:
``tau^2 / V`` is the tuning at the planned size times the share of the plan the whole has
reached (V of the difference falls like 1 / n as the whole's does). The family is corrected
by Bonferroni over every hypothesis the look holds (see ``family_size``), tested or not, so a
cell that reaches the minimums late never loosens the others' threshold. Exploratory: nothing
here feeds the verdict (docs/statistics.md, "Segments that differ").
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from stats.checks import check_inputs
from stats.errors import StatsInputError
from stats.estimates import ESTIMATORS, ArmEstimate
from stats.pairs import read_pair
from stats.results import (
    UNDEFINED_INTERVAL,
    Interval,
    SegmentDifference,
    SegmentReport,
    SegmentSide,
)
from stats.sequential import (
    DEFAULT_PLANNED_UNITS_PER_VARIANT,
    SMALL_SAMPLE_DOF,
    mixture_critical_value,
    mixture_p_value,
    mixture_ratio,
    normal_equivalent,
    t_equivalent,
)
from stats.types import (
    LevelStats,
    MeanStats,
    MetricStats,
    Minimums,
    ProportionStats,
    RatioStats,
    Reason,
    SegmentSkip,
    StatisticsKind,
    VariantInput,
)
from stats.validation import parse_alpha, parse_minimums, parse_planned_units

_LARGEST_LOG = math.log(sys.float_info.max)


class _Effect(NamedTuple):
    """One side's effect: relative, on the log scale with its variance split by arm (v / m^2),
    and absolute, with each arm's degrees of freedom."""

    relative: float
    log_ratio: float
    treatment_part: float
    control_part: float
    absolute: float
    treatment_dof: float
    control_dof: float


class _Skip(NamedTuple):
    """Why a cell is not tested, and on which side the reason lies."""

    reason: Reason | SegmentSkip
    side: SegmentSide | None


class _Family(NamedTuple):
    """What every cell of one look shares: the whole's arms, the level of each mixture."""

    whole: Sequence[VariantInput]
    kind: StatisticsKind
    alpha: float
    least: Minimums
    size: int
    ratios: tuple[float, ...]
    """tau^2 / V of each variant's mixture now (the control's entry unused)."""


def compare_segments(
    whole: Sequence[VariantInput],
    levels: Sequence[LevelStats],
    *,
    alpha: float = 0.05,
    planned_units_per_variant: int | None = None,
    minimums: Minimums | Mapping[str, Any] | None = None,
) -> SegmentReport:
    """Test every (dimension, level, variant) cell: does the effect in the level differ from the
    effect in the rest?

    ``whole`` is the primary metric's sums per variant (control first), as ``analyze_stats``
    takes them; ``levels`` the same sums per level (``LevelStats``; the levels of one dimension
    in any order). ``alpha``, ``planned_units_per_variant`` and ``minimums`` are the
    experiment's, as for the whole. Raises ``StatsInputError`` for an invalid whole or option;
    a level's bad, thin or degenerate sums only leave its cells untested, with the reason.
    """
    kind = check_inputs(whole)
    checked_alpha = parse_alpha(alpha)
    planned = parse_planned_units(planned_units_per_variant, DEFAULT_PLANNED_UNITS_PER_VARIANT)
    size = family_size(levels, len(whole) - 1)
    arms = [ESTIMATORS[kind](arm) for arm in whole]
    ratios = tuple(mixture_ratio(arms[0], arm, checked_alpha / size, planned) for arm in arms)
    family = _Family(whole, kind, checked_alpha, parse_minimums(minimums), size, ratios)
    cells = []
    for dimension in _by_dimension(levels).values():
        names = {level.level for level in dimension}
        for level in dimension:
            other = sorted(names - {level.level})
            rest_level = other[0] if len(names) == 2 else None
            for variant in range(1, len(whole)):
                cells.append(_cell(family, level, variant, rest_level))
    return SegmentReport(family.alpha, family.size, tuple(cells))


def segments_that_differ(
    whole: Sequence[VariantInput],
    levels: Sequence[LevelStats],
    *,
    alpha: float = 0.05,
    planned_units_per_variant: int | None = None,
    minimums: Minimums | Mapping[str, Any] | None = None,
) -> tuple[SegmentDifference, ...]:
    """The cells of ``compare_segments`` whose difference is unlikely by chance."""
    return compare_segments(
        whole,
        levels,
        alpha=alpha,
        planned_units_per_variant=planned_units_per_variant,
        minimums=minimums,
    ).that_differ


def family_size(levels: Sequence[LevelStats], comparisons: int) -> int:
    """Distinct hypotheses of one look: per dimension and compared variant, one per level when
    it has three or more, one when it has two (level and rest are then the two levels, the
    same test seen from each side), none when it has one (no rest)."""
    count = 0
    for dimension in _by_dimension(levels).values():
        distinct = len({level.level for level in dimension})
        count += distinct if distinct >= 3 else 1 if distinct == 2 else 0
    return max(count * comparisons, 1)


def _by_dimension(levels: Sequence[LevelStats]) -> dict[str, list[LevelStats]]:
    grouped: dict[str, list[LevelStats]] = {}
    for level in levels:
        grouped.setdefault(level.dimension, []).append(level)
    return grouped


def _cell(
    family: _Family, level: LevelStats, variant: int, rest_level: str | None
) -> SegmentDifference:
    """One cell: the level's and the rest's effects of ``family.whole[variant]``, then the test."""
    control_whole, treatment_whole = family.whole[0], family.whole[variant]
    keys = (level.dimension, level.level, treatment_whole.key, control_whole.key, rest_level)
    in_level = {arm.key: arm for arm in level.variants}
    level_pair = (in_level.get(control_whole.key), in_level.get(treatment_whole.key))
    rest_pair = (
        None if level_pair[0] is None else _rest(control_whole, level_pair[0]),
        None if level_pair[1] is None else _rest(treatment_whole, level_pair[1]),
    )
    units = (_units(level_pair), _units(rest_pair))
    if level_pair[0] is None or level_pair[1] is None:
        return _skipped(keys, units, (None, None), _Skip(SegmentSkip.VARIANT_MISSING, "level"))
    level_effect = _effect(family, level_pair, "level")
    rest_effect = _effect(family, rest_pair, "rest")
    if isinstance(level_effect, _Skip):
        return _skipped(keys, units, (None, _or_none(rest_effect)), level_effect)
    if isinstance(rest_effect, _Skip):
        return _skipped(keys, units, (level_effect, None), rest_effect)
    return _tested(family, variant, (keys, units), (level_effect, rest_effect))


def _tested(
    family: _Family,
    variant: int,
    cell: tuple[tuple[str, str, str, str, str | None], tuple[int, int]],
    effects: tuple[_Effect, _Effect],
) -> SegmentDifference:
    """The mixture test of the log-scale difference of the two effects, and its cell."""
    keys, units = cell
    level_effect, rest_effect = effects
    parts = (
        (level_effect.treatment_part, level_effect.treatment_dof),
        (level_effect.control_part, level_effect.control_dof),
        (rest_effect.treatment_part, rest_effect.treatment_dof),
        (rest_effect.control_part, rest_effect.control_dof),
    )
    difference = level_effect.log_ratio - rest_effect.log_ratio
    variance = math.fsum(part for part, _ in parts)
    if not (math.isfinite(difference) and math.isfinite(variance) and variance > 0):
        skip = _Skip(Reason.ZERO_VARIANCE, None)
        return _skipped(keys, units, (level_effect, rest_effect), skip)
    se = math.sqrt(variance)
    dof = _satterthwaite(parts, variance)
    level = family.alpha / family.size
    ratio = family.ratios[variant]
    p_value = mixture_p_value(normal_equivalent(difference / se, dof), ratio)
    critical = mixture_critical_value(ratio, level)
    if dof < SMALL_SAMPLE_DOF:
        critical = t_equivalent(critical, dof)
    adjusted = min(1.0, family.size * p_value)
    return SegmentDifference(
        *keys,
        *units,
        level_effect.relative,
        rest_effect.relative,
        level_effect.absolute,
        rest_effect.absolute,
        _ratio_scale(difference, critical * se),
        se,
        p_value,
        adjusted,
        adjusted < family.alpha,
    )


def _skipped(
    keys: tuple[str, str, str, str, str | None],
    units: tuple[int, int],
    effects: tuple[_Effect | None, _Effect | None],
    skip: _Skip,
) -> SegmentDifference:
    """An untested cell: the effects that could be estimated, no interval, never differs."""
    level_effect, rest_effect = effects
    difference = UNDEFINED_INTERVAL
    if level_effect is not None and rest_effect is not None:
        difference = _ratio_scale(level_effect.log_ratio - rest_effect.log_ratio, None)
    return SegmentDifference(
        *keys,
        *units,
        None if level_effect is None else level_effect.relative,
        None if rest_effect is None else rest_effect.relative,
        None if level_effect is None else level_effect.absolute,
        None if rest_effect is None else rest_effect.absolute,
        difference,
        None,
        None,
        None,
        False,
        skip.reason,
        skip.side,
    )


def _effect(
    family: _Family, pair: tuple[VariantInput | None, VariantInput | None], side: SegmentSide
) -> _Effect | _Skip:
    """The relative effect of one side, or why the side cannot be read (the engine's gates)."""
    control, treatment = pair
    if control is None or treatment is None:
        return _Skip(SegmentSkip.INCONSISTENT_SUMS, side)
    if side == "rest" and (control.stats.n == 0 or treatment.stats.n == 0):
        return _Skip(SegmentSkip.NO_REST, side)
    if control.stats.n < 2 or treatment.stats.n < 2:
        return _Skip(Reason.NOT_ENOUGH_DATA, side)
    if not _valid((control, treatment), family.kind):
        return _Skip(SegmentSkip.INCONSISTENT_SUMS, side)
    arms = (_estimate(family, control), _estimate(family, treatment))
    reading = read_pair((control, treatment), arms, family.least)
    if reading.withheld:
        return _Skip(reading.reason or Reason.NOT_ENOUGH_DATA, side)
    control_mean, treatment_mean = reading.control.mean, reading.treatment.mean
    if control_mean is None or treatment_mean is None:
        return _Skip(Reason.DENOMINATOR_ZERO, side)
    if not (control_mean > 0 and treatment_mean > 0):
        return _Skip(SegmentSkip.MEAN_NOT_POSITIVE, side)
    # Divide twice: the square of a tiny mean underflows to 0.
    treatment_part = reading.treatment.variance / treatment_mean / treatment_mean
    control_part = reading.control.variance / control_mean / control_mean
    log_ratio = math.log(treatment_mean) - math.log(control_mean)
    if log_ratio > _LARGEST_LOG:  # means a float cannot hold the ratio of: no shop's sums
        return _Skip(SegmentSkip.INCONSISTENT_SUMS, side)
    return _Effect(
        math.expm1(log_ratio),
        log_ratio,
        treatment_part,
        control_part,
        treatment_mean - control_mean,
        reading.treatment.dof,
        reading.control.dof,
    )


def _ratio_scale(log_difference: float, half_width: float | None) -> Interval:
    """``(1 + r_L) / (1 + r_R) - 1`` and its bounds, from the log scale the test works on."""
    if half_width is None:
        return Interval(_expm1(log_difference), None, None)
    return Interval(
        _expm1(log_difference),
        _expm1(log_difference - half_width),
        _expm1(log_difference + half_width),
    )


def _expm1(value: float) -> float:
    """``exp(value) - 1``, infinite instead of OverflowError far out (shown as unbounded)."""
    return math.expm1(value) if value < 700 else math.inf


def _valid(pair: tuple[VariantInput, VariantInput], kind: StatisticsKind) -> bool:
    """The engine's input rules (``check_inputs``) and the whole's kind; a level's bad sums
    leave its cell untested instead of failing the look."""
    try:
        return check_inputs(pair) is kind
    except StatsInputError:
        return False


def _satterthwaite(parts: Sequence[tuple[float, float]], total: float) -> float:
    """Welch-Satterthwaite degrees of freedom of a sum of independent variance parts, written
    with each part's share of the total so squares neither overflow nor underflow."""
    spread = math.fsum((part / total) ** 2 / dof for part, dof in parts if dof > 0 and part > 0)
    return 1.0 / spread if spread > 0 else math.inf


def _rest(whole: VariantInput, level: VariantInput) -> VariantInput | None:
    """The whole's sums minus the level's, or None when they cannot be a part of the whole."""
    rest = _subtract(whole.stats, level.stats)
    if rest is None:
        return None
    nonzero = None
    if whole.nonzero_units is not None and level.nonzero_units is not None:
        nonzero = whole.nonzero_units - level.nonzero_units
        if nonzero < 0:
            return None
    return VariantInput(whole.key, rest, None, nonzero)


def _subtract(whole: MetricStats, part: MetricStats) -> MetricStats | None:
    n = whole.n - part.n
    if n < 0:
        return None
    if isinstance(whole, ProportionStats) and isinstance(part, ProportionStats):
        conversions = whole.conversions - part.conversions
        return ProportionStats(n, conversions) if 0 <= conversions <= n else None
    if isinstance(whole, MeanStats) and isinstance(part, MeanStats):
        return MeanStats(n, whole.sum - part.sum, whole.sum_squares - part.sum_squares)
    if isinstance(whole, RatioStats) and isinstance(part, RatioStats):
        return RatioStats(
            n,
            whole.numerator_sum - part.numerator_sum,
            whole.numerator_sum_squares - part.numerator_sum_squares,
            whole.denominator_sum - part.denominator_sum,
            whole.denominator_sum_squares - part.denominator_sum_squares,
            whole.cross_sum - part.cross_sum,
        )
    return None


def _units(pair: tuple[VariantInput | None, VariantInput | None]) -> int:
    return sum(max(arm.stats.n, 0) for arm in pair if arm is not None)


def _estimate(family: _Family, arm: VariantInput) -> ArmEstimate:
    return ESTIMATORS[family.kind](arm)


def _or_none(effect: _Effect | _Skip) -> _Effect | None:
    return effect if isinstance(effect, _Effect) else None
