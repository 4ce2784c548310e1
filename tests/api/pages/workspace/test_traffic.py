"""The measured traffic the live plan reads: kept between pages, measured again in the
background once stale, never kept while there are no exposures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.pages.workspace.plan_view import about
from api.pages.workspace.traffic import MeasuredTraffic
from experiments.db import make_engine, session_scope
from experiments.models.event import Exposure
from experiments.planning import TRAFFIC_DAYS
from tests.waiting import wait_until


def expose(url: str, units: range, days_ago: float = 0) -> None:
    engine = make_engine(url)
    moment = datetime.now(UTC) - timedelta(days=days_ago)
    try:
        with session_scope(engine) as session:
            for unit in units:
                session.add(
                    Exposure(
                        event_id=f"e{unit}-{days_ago}",
                        experiment="cta",
                        variant="control",
                        unit_id=f"u{unit}",
                        timestamp=moment,
                        received_at=moment,
                    )
                )
    finally:
        engine.dispose()


def test_the_figure_is_kept_then_measured_again_in_the_background(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        traffic = MeasuredTraffic(engine, kept=3600)
        assert traffic.visitors_per_day() is None  # no exposures: nothing kept
        expose(sqlite_url, range(28))
        expose(sqlite_url, range(14), days_ago=3)  # the same units again count once
        expose(sqlite_url, range(1000, 1100), days_ago=TRAFFIC_DAYS + 1)  # too old
        assert traffic.visitors_per_day() == 28 / TRAFFIC_DAYS
        expose(sqlite_url, range(28, 56))
        assert traffic.visitors_per_day() == 28 / TRAFFIC_DAYS  # kept
        stale = MeasuredTraffic(engine, kept=0)
        assert stale.visitors_per_day() == 56 / TRAFFIC_DAYS
        expose(sqlite_url, range(56, 70))
        stale.visitors_per_day()  # answers the kept figure, measures in the background
        wait_until(lambda: stale.visitors_per_day() == 70 / TRAFFIC_DAYS, 5, "the refresh")
    finally:
        engine.dispose()


def test_figures_are_said_as_a_person_says_them() -> None:
    assert about(122_929) == "123,000"
    assert about(987) == "987"
    assert about(1_234_567) == "1,230,000"
    assert about(0) == "0"
