"""Server-rendered SVG charts: a metric's cumulative relative uplift per look, with the
confidence-sequence band and the zero line. Pure geometry; the template draws it.

A bound the sequence does not have yet (None) is drawn at the edge of the plotted range, and
the range is clipped to -100 % .. +300 % so one early, wide look cannot flatten the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from experiments.results.words.formatting import percent

_LOWEST, _HIGHEST = -1.0, 3.0
PALETTE = ("#0b57d0", "#a3431b", "#6a1b9a", "#1b5e20")  # each >= 4.5:1 on white


@dataclass(frozen=True, slots=True)
class UpliftPoint:
    """One look of one comparison: the relative change and its sequential interval."""

    as_of: datetime
    estimate: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True, slots=True)
class Series:
    variant: str
    colour: str
    line: str  # SVG path data of the estimates
    band: str  # SVG path data of the interval (a closed polygon)
    last: UpliftPoint | None


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    zero_y: float
    series: tuple[Series, ...]
    ticks: tuple[Tick, ...]
    first_label: str
    last_label: str
    looks: int

    @property
    def empty(self) -> bool:
        return not any(s.line for s in self.series)


def uplift_chart(
    series: Mapping[str, Sequence[UpliftPoint]], width: int = 640, height: int = 260
) -> Chart:
    """The chart of each variant's uplift series (points in time order)."""
    left, top, right, bottom = 56, 12, 12, 28
    plot_width, plot_height = width - left - right, height - top - bottom
    low, high = _range(series)
    looks = max((len(points) for points in series.values()), default=0)
    times = sorted({p.as_of for points in series.values() for p in points})

    def x(moment: datetime) -> float:
        if len(times) < 2:
            return left + plot_width / 2
        span = (times[-1] - times[0]).total_seconds() or 1.0
        return left + plot_width * (moment - times[0]).total_seconds() / span

    def y(value: float) -> float:
        clipped = min(max(value, low), high)
        return top + plot_height * (high - clipped) / (high - low)

    drawn = []
    for index, (variant, points) in enumerate(series.items()):
        estimated = [p for p in points if p.estimate is not None]
        line = " ".join(
            f"{'M' if at == 0 else 'L'}{x(p.as_of):.1f},{y(p.estimate or 0.0):.1f}"
            for at, p in enumerate(estimated)
        )
        upper = [f"{x(p.as_of):.1f},{y(high if p.high is None else p.high):.1f}" for p in estimated]
        lower = [f"{x(p.as_of):.1f},{y(low if p.low is None else p.low):.1f}" for p in estimated]
        band = f"M{' L'.join(upper + lower[::-1])} Z" if estimated else ""
        colour = PALETTE[index % len(PALETTE)]
        drawn.append(Series(variant, colour, line, band, estimated[-1] if estimated else None))
    ticks = tuple(Tick(y(value), percent(value, signed=True)) for value in _ticks(low, high))
    return Chart(
        width,
        height,
        left,
        top,
        plot_width,
        plot_height,
        y(0.0),
        tuple(drawn),
        ticks,
        times[0].date().isoformat() if times else "",
        times[-1].date().isoformat() if times else "",
        looks,
    )


def _range(series: Mapping[str, Sequence[UpliftPoint]]) -> tuple[float, float]:
    values = [0.0]
    for points in series.values():
        for point in points:
            values += [v for v in (point.estimate, point.low, point.high) if v is not None]
    low = max(min(values), _LOWEST)
    high = min(max(values), _HIGHEST)
    pad = max((high - low) * 0.08, 0.01)
    return max(low - pad, _LOWEST), min(high + pad, _HIGHEST)


def _ticks(low: float, high: float) -> list[float]:
    """About five round values between low and high, zero always among them."""
    raw = (high - low) / 4
    step = next(s for s in (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0) if s >= raw)
    start = int(low / step)
    return [k * step for k in range(start, int(high / step) + 1) if low <= k * step <= high]
