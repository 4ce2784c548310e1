"""The SVG chart's geometry: bounds, the zero line, missing bounds, clipping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.pages.charts import UpliftPoint, uplift_chart
from api.pages.views import chart_text

DAY0 = datetime(2026, 3, 2, tzinfo=UTC)


def points(*values: tuple[float | None, float | None, float | None]) -> list[UpliftPoint]:
    return [UpliftPoint(DAY0 + timedelta(days=i), *value) for i, value in enumerate(values)]


def test_zero_line_lies_between_the_ticks_and_the_band_closes() -> None:
    series = {"b": points((0.1, -0.2, 0.5), (0.12, -0.05, 0.3), (0.11, 0.02, 0.2))}
    chart = uplift_chart(series)
    top, bottom = chart.top, chart.top + chart.plot_height
    assert top <= chart.zero_y <= bottom
    assert [tick.label for tick in chart.ticks if abs(tick.y - chart.zero_y) < 1e-9] == ["0 %"]
    (drawn,) = chart.series
    assert drawn.line.startswith("M") and drawn.line.count("L") == 2
    assert drawn.band.endswith("Z") and drawn.band.count(",") == 6
    assert chart.first_label == "2026-03-02" and chart.last_label == "2026-03-04"


def test_missing_bounds_are_drawn_at_the_edge_and_huge_ones_clipped() -> None:
    series = {"b": points((None, None, None), (0.5, None, 40.0), (0.4, -0.1, 9.0))}
    chart = uplift_chart(series, 320, 140)
    (drawn,) = chart.series
    ys = [float(pair.split(",")[1]) for pair in drawn.band[1:-2].replace("L", " ").split()]
    assert min(ys) >= chart.top - 1e-9  # +4,000 % is clipped to the plotted range
    assert max(ys) <= chart.top + chart.plot_height + 1e-9
    assert drawn.line.count("L") == 1  # the look without an estimate is left out
    assert "likely range −10 % to +900 %" in chart_text("Purchase conversion", series)


def test_no_estimate_yet_is_an_empty_chart_with_words() -> None:
    series = {"b": points((None, None, None))}
    assert uplift_chart(series).empty
    assert "no change measured yet over 1 look" in chart_text("Purchase conversion", series)
