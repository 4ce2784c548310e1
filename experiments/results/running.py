"""Running sequential readings: what a look reports given every earlier look.

A mixture-SPRT is defined over looks: its always-valid p-value is the minimum of the p-values
of all looks so far, and its confidence sequence the intersection of the sequences of all looks
so far. Reporting those (instead of the current look's own reading) makes a sequential
"significant" permanent: the page, the timeseries and the CLI agree at every look and a verdict
taken on the sequential readings never turns back for lack of evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from experiments.results.types import MetricResult
from stats import Comparison, Interval, SequentialResult

# (metric key, variant key) -> the running reading reported at the previous look
RunningReadings = Mapping[tuple[str, str], SequentialResult]


def readings_of_page(page: Mapping[str, Any]) -> dict[tuple[str, str], SequentialResult]:
    """The sequential readings stored in a look's results page (its `to_dict` JSON)."""
    found: dict[tuple[str, str], SequentialResult] = {}
    for metric in page.get("metrics", ()):
        for comparison in metric.get("comparisons", ()):
            sequential = comparison["sequential"]
            found[(metric["metric"], comparison["variant"])] = SequentialResult(
                sequential["p_value"],
                _interval(sequential["absolute"]),
                _interval(sequential["relative"]),
                bool(sequential["significant"]),
                sequential.get("p_value_adjusted"),
            )
    return found


def combine(
    previous: SequentialResult | None, current: SequentialResult, alpha: float
) -> SequentialResult:
    """The running reading: the smaller p-value and the intersection of the two sequences.

    The estimates are the current look's. Should the intersection be empty (the sequences
    exclude every common value, which has probability below alpha under any hypothesis), the
    previous running interval is kept: every value had been excluded, zero included.
    """
    if previous is None or previous.p_value is None:
        return current
    if current.p_value is None:
        return replace(
            previous,
            absolute=previous.absolute._replace(estimate=None),
            relative=previous.relative._replace(estimate=None),
        )
    p_value = min(previous.p_value, current.p_value)
    # With several variants the adjusted p-value decides (stats.sequential); it runs alike.
    adjusted = current.p_value_adjusted
    if adjusted is not None and previous.p_value_adjusted is not None:
        adjusted = min(adjusted, previous.p_value_adjusted)
    return SequentialResult(
        p_value,
        _intersection(previous.absolute, current.absolute),
        _intersection(previous.relative, current.relative),
        (p_value if adjusted is None else adjusted) < alpha,
        adjusted,
    )


@dataclass(frozen=True, slots=True)
class RunningReadingsOf:
    """Turns a look's metric results into running ones, given the previous look's readings."""

    previous: RunningReadings

    def __call__(self, result: MetricResult) -> MetricResult:
        analysis = result.analysis
        if analysis is None:
            return result
        comparisons = tuple(
            self._running(result.metric, comparison, analysis.alpha)
            for comparison in analysis.comparisons
        )
        return replace(result, analysis=replace(analysis, comparisons=comparisons))

    def _running(self, metric: str, comparison: Comparison, alpha: float) -> Comparison:
        previous = self.previous.get((metric, comparison.variant))
        sequential = combine(previous, comparison.sequential, alpha)
        return replace(comparison, sequential=sequential)


def _interval(data: Mapping[str, Any]) -> Interval:
    return Interval(data["estimate"], data["ci_low"], data["ci_high"])


def _intersection(previous: Interval, current: Interval) -> Interval:
    """Both intervals' constraints at once; a None bound is unbounded on that side."""
    if previous.ci_low is None and previous.ci_high is None:
        return current
    low = _tighter(previous.ci_low, current.ci_low, max)
    high = _tighter(previous.ci_high, current.ci_high, min)
    if low is not None and high is not None and low > high:
        return previous._replace(estimate=current.estimate)
    return Interval(current.estimate, low, high)


def _tighter(
    first: float | None, second: float | None, pick: Callable[[float, float], float]
) -> float | None:
    if first is None:
        return second
    if second is None:
        return first
    return pick(first, second)
