"""The segments that differ in words: one cell per dimension and variant, the rest named."""

from __future__ import annotations

from datetime import UTC, datetime

from experiments.results.types import SegmentFinding
from experiments.results.words.segment_words import differ_sentence
from stats import Interval

WHEN = datetime(2026, 3, 4, tzinfo=UTC)


def finding(
    dimension: str, level: str, rest: str | None, effects: tuple[float, float]
) -> SegmentFinding:
    interval = Interval(0.5, 0.2, 0.9)
    return SegmentFinding(dimension, level, "one-page", rest, *effects, interval, 0.001, WHEN, True)


def test_a_two_level_dimension_is_said_once_with_both_levels() -> None:
    pair = (
        finding("device", "mobile", "desktop", (0.12, -0.09)),
        finding("device", "desktop", "mobile", (-0.09, 0.12)),
    )
    assert differ_sentence(pair) == (
        "Segments (exploratory, the verdict stands): one-page: +12 % on mobile, −9 % on "
        "desktop; a difference this large is unlikely by chance."
    )


def test_past_two_levels_the_rest_is_named_and_past_three_cells_counted() -> None:
    cells = [finding(f"d{n}", "x", None, (0.3, 0.01)) for n in range(5)]
    sentence = differ_sentence(cells)
    assert "one-page: +30 % on x, +1 % on the rest (d0)" in sentence
    assert sentence.endswith(
        "; and 2 more segments; differences this large are unlikely by chance."
    )
