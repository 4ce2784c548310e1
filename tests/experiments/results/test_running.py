"""Running sequential readings: the minimum p-value and the intersection of the sequences."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from experiments.results.running import combine, readings_of_page
from stats import Interval, SequentialResult

ALPHA = 0.05


def reading(p_value: float | None, low: float | None, high: float | None) -> SequentialResult:
    estimate = None if low is None or high is None else (low + high) / 2
    interval = Interval(estimate, low, high)
    return SequentialResult(p_value, interval, interval, p_value is not None and p_value < ALPHA)


def test_the_first_look_is_its_own_running_reading() -> None:
    current = reading(0.2, -1.0, 3.0)
    assert combine(None, current, ALPHA) is current


def test_a_significant_reading_stays_significant() -> None:
    earlier = reading(0.01, 0.5, 2.0)
    later = combine(earlier, reading(0.4, -0.5, 1.5), ALPHA)
    assert later.p_value == 0.01
    assert later.significant
    assert (later.absolute.ci_low, later.absolute.ci_high) == (0.5, 1.5)
    assert later.absolute.estimate == 0.5  # the current look's estimate


def test_unbounded_sides_and_undefined_looks() -> None:
    one_sided = combine(reading(0.3, None, 2.0), reading(0.2, -1.0, 3.0), ALPHA)
    assert (one_sided.absolute.ci_low, one_sided.absolute.ci_high) == (-1.0, 2.0)
    undefined_now = combine(reading(0.3, -1.0, 1.0), reading(None, None, None), ALPHA)
    assert undefined_now.p_value == 0.3
    assert undefined_now.absolute.estimate is None
    undefined_before = reading(None, None, None)
    assert combine(undefined_before, reading(0.2, -1.0, 3.0), ALPHA).p_value == 0.2


def test_disjoint_sequences_keep_the_earlier_interval() -> None:
    kept = combine(reading(0.001, 1.0, 2.0), reading(0.001, 3.0, 4.0), ALPHA)
    assert (kept.absolute.ci_low, kept.absolute.ci_high) == (1.0, 2.0)
    assert kept.significant


def test_readings_come_back_from_a_stored_page() -> None:
    page = {
        "metrics": [
            {
                "metric": "conversion_rate",
                "comparisons": [
                    {"variant": "b", "sequential": reading(0.02, 0.1, 0.3).to_dict()},
                ],
            },
            {"metric": "aov", "comparisons": []},
        ]
    }
    assert readings_of_page(page) == {("conversion_rate", "b"): reading(0.02, 0.1, 0.3)}


looks = st.lists(
    st.tuples(
        st.floats(0.0, 1.0),
        st.floats(-10.0, 10.0),
        st.floats(0.0, 5.0),
    ),
    min_size=1,
    max_size=30,
)


@given(looks)
def test_running_readings_are_monotone(sequence: list[tuple[float, float, float]]) -> None:
    running: SequentialResult | None = None
    for p_value, centre, half_width in sequence:
        current = reading(p_value, centre - half_width, centre + half_width)
        combined = combine(running, current, ALPHA)
        assert combined.p_value is not None
        before = 1.0 if running is None or running.p_value is None else running.p_value
        assert combined.p_value == min(p_value, before)
        assert combined.significant == (combined.p_value < ALPHA)
        low, high = combined.absolute.ci_low, combined.absolute.ci_high
        assert low is not None and high is not None and low <= high
        if running is not None:
            assert running.significant <= combined.significant
            assert low >= (running.absolute.ci_low or -float("inf"))
            assert high <= (running.absolute.ci_high or float("inf"))
        running = combined
