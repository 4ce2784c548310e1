"""Running sequential readings: what a look reports given every earlier look.

A mixture-SPRT is defined over looks: its always-valid p-value is the minimum of the p-values
of all looks so far, so "significant" (ever significant) is permanent once reached. The interval
reported is the current look's own confidence sequence: it covers the *average effect over the
units seen so far* at every look simultaneously, whether or not the effect changes over time
(a novelty effect, change aversion, weekends). The intersection of the looks' sequences would
cover it only for a constant effect; it is kept beside the reading to compare each look with
the earlier ones: when the two cannot both hold, the effect is changing over time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import NamedTuple

from experiments.results.page import IntervalReading, ResultsPage
from experiments.results.types import MetricResult, RunningReading
from stats import Interval, SequentialResult


class StoredReading(NamedTuple):
    """A comparison's sequential reading at a look and what the looks so far add to it."""

    sequential: SequentialResult
    running: RunningReading


# (metric key, variant key) -> the running reading reported at the previous look
PreviousReadings = Mapping[tuple[str, str], StoredReading]


def stored_readings(page: ResultsPage | None) -> dict[tuple[str, str], StoredReading]:
    """The running readings stored in a look's results page (none without a page).

    A page stored before the readings kept their intersection apart gives its reported (then
    intersected) interval as the intersection, and no date of first significance.
    """
    found: dict[tuple[str, str], StoredReading] = {}
    for metric in () if page is None else page.metrics:
        for comparison in metric.comparisons:
            sequential = comparison.sequential
            absolute = _interval(sequential.absolute)
            kept = sequential.intersection
            running = RunningReading(
                sequential.significant_since,
                _bounds(absolute) if kept is None else Interval(None, kept.ci_low, kept.ci_high),
                sequential.effect_changing,
            )
            reading = SequentialResult(
                sequential.p_value,
                absolute,
                _interval(sequential.relative),
                sequential.significant,
                sequential.p_value_adjusted,
            )
            found[(metric.metric, comparison.variant)] = StoredReading(reading, running)
    return found


def combine(
    previous: StoredReading | None, current: SequentialResult, alpha: float, as_of: datetime
) -> StoredReading:
    """The running reading at the look ending ``as_of``: the smaller p-value (significant once,
    significant for good) with the current look's own intervals and estimates.

    The look is compared with the earlier ones: it is ``effect_changing`` when its sequence and
    their intersection exclude every common value, or its estimate lies outside their
    intersection. An empty intersection starts again from this look's sequence.
    """
    earlier_p = None if previous is None else previous.sequential.p_value
    if previous is None or earlier_p is None:
        since = as_of if current.significant else None
        return StoredReading(current, RunningReading(since, _bounds(current.absolute)))
    earlier, kept = previous
    if current.p_value is None:
        # No reading at this look: the evidence so far stands, with no interval to report.
        reading = SequentialResult(
            earlier.p_value,
            current.absolute,
            current.relative,
            earlier.significant,
            earlier.p_value_adjusted,
        )
        return StoredReading(reading, replace(kept, effect_changing=False))
    p_value = min(earlier_p, current.p_value)
    # With several variants the adjusted p-value decides (stats.sequential); it runs alike.
    adjusted = current.p_value_adjusted
    if adjusted is not None and earlier.p_value_adjusted is not None:
        adjusted = min(adjusted, earlier.p_value_adjusted)
    significant = (p_value if adjusted is None else adjusted) < alpha
    since = kept.significant_since if earlier.significant else (as_of if significant else None)
    both = _intersection(kept.intersection, current.absolute)
    estimate = current.absolute.estimate
    changing = both is None or (estimate is not None and kept.intersection.excludes(estimate))
    reading = SequentialResult(p_value, current.absolute, current.relative, significant, adjusted)
    intersection = _bounds(current.absolute) if both is None else both
    return StoredReading(reading, RunningReading(since, intersection, changing))


def running_readings(
    results: list[MetricResult], previous: PreviousReadings, as_of: datetime
) -> list[MetricResult]:
    """Stage 3 of a look: its metric results with running readings, given the previous look's
    readings (`stored_readings`) and the end of this look (the verdict is taken on these)."""
    return [running_result(result, previous, as_of) for result in results]


def running_result(
    result: MetricResult, previous: PreviousReadings, as_of: datetime
) -> MetricResult:
    """One metric's result with its running readings (`combine` for each comparison)."""
    analysis = result.analysis
    if analysis is None:
        return result
    comparisons = []
    running = {}
    for comparison in analysis.comparisons:
        earlier = previous.get((result.metric, comparison.variant))
        stored = combine(earlier, comparison.sequential, analysis.alpha, as_of)
        comparisons.append(replace(comparison, sequential=stored.sequential))
        running[comparison.variant] = stored.running
    return replace(
        result, analysis=replace(analysis, comparisons=tuple(comparisons)), running=running
    )


def _interval(reading: IntervalReading) -> Interval:
    return Interval(reading.estimate, reading.ci_low, reading.ci_high)


def _bounds(interval: Interval) -> Interval:
    return interval._replace(estimate=None)


def _intersection(previous: Interval, current: Interval) -> Interval | None:
    """Both intervals' constraints at once (a None bound is unbounded on that side); None when
    they exclude every common value."""
    low = _tighter(previous.ci_low, current.ci_low, max)
    high = _tighter(previous.ci_high, current.ci_high, min)
    if low is not None and high is not None and low > high:
        return None
    return Interval(None, low, high)


def _tighter(
    first: float | None, second: float | None, pick: Callable[[float, float], float]
) -> float | None:
    if first is None:
        return second
    if second is None:
        return first
    return pick(first, second)
