"""Running sequential readings: the minimum p-value, the current look's own interval, and the
intersection kept beside it to tell when the effect is changing over time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from experiments.results.readings.running import StoredReading, combine, stored_readings
from experiments.results.types import RunningReading
from stats import Interval, SequentialResult
from tests.experiments.results.pages import a_comparison, a_metric, a_page

ALPHA = 0.05
DAY1 = datetime(2026, 3, 3, tzinfo=UTC)


def reading(p_value: float | None, low: float | None, high: float | None) -> SequentialResult:
    estimate = None if low is None or high is None else (low + high) / 2
    interval = Interval(estimate, low, high)
    return SequentialResult(p_value, interval, interval, p_value is not None and p_value < ALPHA)


def run(*looks: SequentialResult) -> list[StoredReading]:
    """The running readings of daily looks from DAY1 on."""
    running: StoredReading | None = None
    found = []
    for day, current in enumerate(looks):
        running = combine(running, current, ALPHA, DAY1 + timedelta(days=day))
        found.append(running)
    return found


def test_the_first_look_is_its_own_running_reading() -> None:
    current = reading(0.2, -1.0, 3.0)
    first = combine(None, current, ALPHA, DAY1)
    assert first.sequential is current
    assert first.running == RunningReading(None, Interval(None, -1.0, 3.0), False)


def test_significance_stays_but_the_interval_is_the_current_looks_own() -> None:
    """Ever significant is kept (with its date); the interval reported is this look's."""
    earlier, later = run(reading(0.01, 0.5, 2.0), reading(0.4, -0.5, 1.5))
    assert earlier.running.significant_since == DAY1
    assert later.sequential.p_value == 0.01
    assert later.sequential.significant
    assert later.sequential.absolute == Interval(0.5, -0.5, 1.5)
    assert later.running.significant_since == DAY1
    assert later.running.intersection == Interval(None, 0.5, 1.5)
    assert not later.running.effect_changing


def test_sequences_that_cannot_all_hold_flag_a_changing_effect_and_start_again() -> None:
    """A novelty effect: +1 to +2 at first, then +3 to +4; the intersection is empty."""
    _, changed, settled = run(
        reading(0.001, 1.0, 2.0), reading(0.001, 3.0, 4.0), reading(0.001, 3.2, 3.9)
    )
    assert changed.running.effect_changing
    assert changed.sequential.absolute == Interval(3.5, 3.0, 4.0)  # never the stale 1 to 2
    assert changed.running.intersection == Interval(None, 3.0, 4.0)
    assert not settled.running.effect_changing


def test_an_estimate_outside_the_earlier_intersection_flags_a_changing_effect() -> None:
    _, moved = run(reading(0.3, -1.0, 1.0), reading(0.3, 0.0, 3.0))
    assert moved.running.effect_changing  # the estimate 1.5 is outside -1 to 1
    assert moved.running.intersection == Interval(None, 0.0, 1.0)


def test_unbounded_sides_and_undefined_looks() -> None:
    one_sided = run(reading(0.3, None, 2.0), reading(0.2, -1.0, 3.0))[-1]
    assert one_sided.running.intersection == Interval(None, -1.0, 2.0)
    undefined_now = run(reading(0.01, 1.0, 2.0), reading(None, None, None))[-1]
    assert undefined_now.sequential.p_value == 0.01 and undefined_now.sequential.significant
    assert undefined_now.sequential.absolute == Interval(None, None, None)
    assert undefined_now.running.intersection == Interval(None, 1.0, 2.0)
    undefined_before = run(reading(None, None, None), reading(0.2, -1.0, 3.0))[-1]
    assert undefined_before.sequential.p_value == 0.2


def test_readings_come_back_from_a_stored_page() -> None:
    stored = run(reading(0.02, 0.1, 0.3))[0]
    running = stored.running
    sequential = stored.sequential.to_dict() | {
        "significant_since": running.significant_since,
        "effect_changing": running.effect_changing,
        "intersection": {
            "ci_low": running.intersection.ci_low,
            "ci_high": running.intersection.ci_high,
        },
    }
    comparison = a_comparison("b", sequential=sequential)
    metrics = [a_metric({"a": 10, "b": 10}, [comparison]), a_metric({"a": 10}, [], metric="aov")]
    assert stored_readings(a_page(metrics)) == {("conversion_rate", "b"): stored}


def test_a_look_stored_before_these_fields_still_loads() -> None:
    """An older page has no intersection, date or flag: its interval (then the running
    intersection) is the intersection, and significance carries on without a date."""
    old: dict[str, Any] = {"p_value": 0.01, "p_value_adjusted": 0.01, "significant": True}
    old |= {
        "absolute": Interval(0.2, 0.1, 0.3).to_dict(),
        "relative": Interval(0.2, 0.1, 0.3).to_dict(),
    }
    metric = a_metric({"a": 10, "b": 10}, [a_comparison("b", sequential=old)], metric="m")
    loaded = stored_readings(a_page([metric]))[("m", "b")]
    assert loaded.running == RunningReading(None, Interval(None, 0.1, 0.3), False)
    later = combine(loaded, reading(0.3, -0.1, 0.5), ALPHA, DAY1)
    assert later.sequential.significant and later.running.significant_since is None
    assert later.running.intersection == Interval(None, 0.1, 0.3)


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
def test_running_readings_keep_significance_and_report_each_looks_interval(
    sequence: list[tuple[float, float, float]],
) -> None:
    running: StoredReading | None = None
    for day, (p_value, centre, half_width) in enumerate(sequence):
        current = reading(p_value, centre - half_width, centre + half_width)
        combined = combine(running, current, ALPHA, DAY1 + timedelta(days=day))
        estimate = current.absolute.estimate
        assert estimate is not None
        assert combined.sequential.absolute == current.absolute
        assert combined.sequential.p_value is not None
        before = (
            1.0
            if running is None or running.sequential.p_value is None
            else running.sequential.p_value
        )
        assert combined.sequential.p_value == min(p_value, before)
        assert combined.sequential.significant == (combined.sequential.p_value < ALPHA)
        assert (combined.running.significant_since is not None) == combined.sequential.significant
        low, high = combined.running.intersection.ci_low, combined.running.intersection.ci_high
        assert low is not None and high is not None and low <= high
        if running is not None:
            assert running.sequential.significant <= combined.sequential.significant
            kept = running.running.intersection
            if combined.running.effect_changing:  # disjoint, or the estimate outside
                assert (
                    kept.excludes(estimate)
                    or kept.excludes(current.absolute.ci_low or 0)
                    and (kept.excludes(current.absolute.ci_high or 0))
                )
            else:  # the intersection narrows and still holds this look's estimate
                assert low >= (kept.ci_low or -float("inf"))
                assert high <= (kept.ci_high or float("inf"))
                assert low <= estimate <= high
        running = combined
