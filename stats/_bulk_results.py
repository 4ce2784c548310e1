"""The result objects of ``stats.bulk``: the same ``AnalysisResult`` values ``analyze_stats``
builds, from the arrays of a group of analyses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from stats._bulk_arms import Arms, ArmSums
from stats._bulk_pairs import REASONS, Pairs
from stats._bulk_readings import BOUNDED, UNDEFINED, Bayesian, Difference, Relative, Sequential
from stats.gates import UnitsRule
from stats.results import (
    UNDEFINED_INTERVAL,
    AnalysisResult,
    BayesianResult,
    Comparison,
    CupedResult,
    Interval,
    SequentialResult,
    SrmResult,
    VariantSummary,
)
from stats.srm import SRM_THRESHOLD
from stats.types import (
    Alternative,
    Correction,
    Minimums,
    Prior,
    Reason,
    StatisticsKind,
    VariantInput,
)

_NO_BAYESIAN = BayesianResult(None, None)


class Terms(NamedTuple):
    """The options of one group of analyses, parsed as ``stats.analysis`` parses them."""

    level: float
    side: Alternative
    planned: int
    prior: Prior | None
    correction: Correction
    least: Minimums
    weights: tuple[float, ...]


class Readings(NamedTuple):
    """The readings of the comparisons that have one, flat in row order."""

    difference: Difference
    p_value: Any
    p_adjusted: Any
    half_width: Any
    relative: Relative
    sequential: Sequential
    bayesian: Bayesian


class _Bounds:
    """Python lists of an interval's figures, read by flat index."""

    def __init__(self, relative: Relative, side: Alternative, clipped: bool) -> None:
        self.estimate = relative.estimate.tolist()
        self.low = relative.low.tolist()
        self.high = relative.high.tolist()
        self.shape = relative.shape.tolist()
        self.keeps_low = relative.keeps_low.tolist()
        self.side = side
        self.clipped = clipped

    def interval(self, at: int) -> Interval:
        """``fieller_relative``'s interval (``UNDEFINED_INTERVAL`` for its None), cut at -1
        for a proportion as ``stats.analysis`` cuts it."""
        shape = self.shape[at]
        if shape == UNDEFINED:
            return UNDEFINED_INTERVAL
        estimate = self.estimate[at]
        if shape != BOUNDED:
            return Interval(estimate, None, None)
        low: float | None = self.low[at]
        high: float | None = self.high[at]
        if self.side is not Alternative.TWO_SIDED:
            low, high = (low, None) if self.keeps_low[at] else (None, high)
        if self.clipped and low is not None and low < -1.0:
            low = -1.0
        return Interval(estimate, low, high)

    def reason(self, at: int) -> Reason | None:
        """``stats.fixed``'s reason for the relative interval."""
        shape = self.shape[at]
        if shape == UNDEFINED:
            return Reason.CONTROL_MEAN_ZERO
        return None if shape == BOUNDED else Reason.RELATIVE_INTERVAL_UNBOUNDED


def _bounded(estimate: float, half_width: float, side: Alternative) -> Interval:
    """``stats.fixed.bounded_interval``."""
    low = None if side is Alternative.LESS else estimate - half_width
    high = None if side is Alternative.GREATER else estimate + half_width
    return Interval(estimate, low, high)


def _summaries(
    variants: Sequence[VariantInput], kind: StatisticsKind, means: list[Any], units: list[Any]
) -> tuple[VariantSummary, ...]:
    """``stats.analysis._summary`` of each arm (``means``: None where undefined)."""
    if kind is StatisticsKind.PROPORTION:
        return tuple(
            VariantSummary(variant.key, variant.stats.n, mean)
            for variant, mean in zip(variants, means, strict=True)
        )
    summaries = []
    for variant, mean, kish in zip(variants, means, units, strict=True):
        if variant.nonzero_units is not None:
            rule, count = UnitsRule.NONZERO_UNITS.value, variant.nonzero_units
        else:
            rule, count = UnitsRule.KISH.value, kish
        summaries.append(VariantSummary(variant.key, variant.stats.n, mean, count, rule))
    return tuple(summaries)


def _withheld(
    keys: tuple[str, str], means: tuple[float | None, float | None], reason: Reason | None,
    cuped: CupedResult | None,
) -> Comparison:  # fmt: skip
    """``stats.analysis._withheld``: point estimates only, never significant."""
    control, treatment = means
    absolute = UNDEFINED_INTERVAL
    relative = UNDEFINED_INTERVAL
    if control is not None and treatment is not None:
        absolute = Interval(treatment - control, None, None)
        if control != 0:
            relative = Interval(treatment / control - 1.0, None, None)
    return Comparison(
        *keys,
        absolute,
        relative,
        None,
        None,
        False,
        SequentialResult(None, absolute, relative, False, None),
        _NO_BAYESIAN,
        reason,
        cuped,
    )


def assembled(
    analyses: list[Sequence[VariantInput]],
    sums: ArmSums,
    arms: tuple[Arms, Any],
    pairs: Pairs,
    readings: Readings,
    srm: list[float],
    reductions: list[list[float]] | None,
    terms: Terms,
) -> list[AnalysisResult]:
    """One ``AnalysisResult`` per analysis of the group."""
    raw, units = arms
    clipped = sums.kind is StatisticsKind.PROPORTION
    side, level = terms.side, terms.level
    means = [
        [mean if ok else None for mean, ok in zip(row, defined, strict=True)]
        for row, defined in zip(raw.mean.tolist(), raw.defined.tolist(), strict=True)
    ]
    read_means = (pairs.control.mean.tolist(), pairs.treatment.mean.tolist())
    withheld, reasons = pairs.withheld.tolist(), pairs.reason.tolist()
    gap = readings.difference
    values = gap.value.tolist()
    relative = _Bounds(readings.relative, side, clipped)
    late = readings.sequential
    late_relative = _Bounds(late.relative, side, clipped)
    late_p, late_adjusted = late.p_value.tolist(), late.adjusted.tolist()
    late_half = (late.critical * gap.se).tolist()
    bayes = readings.bayesian
    chance, loss, believed = bayes.chance.tolist(), bayes.loss.tolist(), bayes.defined.tolist()
    unit_rows = units.tolist()
    at = 0
    results = []
    for row, variants in enumerate(analyses):
        comparisons = []
        baseline = variants[0].key
        for column in range(len(variants) - 1):
            keys = (variants[column + 1].key, baseline)
            cuped = None if reductions is None else CupedResult(reductions[row][column])
            reason = REASONS[reasons[row][column]]
            if withheld[row][column]:
                pair_means = (read_means[0][row][column], read_means[1][row][column])
                if means[row][0] is None or means[row][column + 1] is None:
                    pair_means = (None, None)
                comparisons.append(_withheld(keys, pair_means, reason, cuped))
                continue
            p_adjusted = readings.p_adjusted[at]
            late_adjusted_p = late_adjusted[at]
            comparisons.append(
                Comparison(
                    *keys,
                    _bounded(values[at], readings.half_width[at], side),
                    relative.interval(at),
                    readings.p_value[at],
                    p_adjusted,
                    p_adjusted < level,
                    SequentialResult(
                        late_p[at],
                        _bounded(values[at], late_half[at], side),
                        late_relative.interval(at),
                        late_adjusted_p < level,
                        late_adjusted_p,
                    ),
                    BayesianResult(chance[at], loss[at]) if believed[at] else _NO_BAYESIAN,
                    reason or relative.reason(at),
                    cuped,
                )
            )
            at += 1
        results.append(
            AnalysisResult(
                sums.kind,
                level,
                _summaries(variants, sums.kind, means[row], unit_rows[row]),
                SrmResult(srm[row], srm[row] < SRM_THRESHOLD),
                tuple(comparisons),
            )
        )
    return results
