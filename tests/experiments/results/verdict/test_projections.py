"""Projections only when they mean something: no days-left figure without a pace, and more
than a year said calmly, once."""

from __future__ import annotations

from experiments.results.types import Verdict
from experiments.results.verdict.decision import PlanProgress, decide
from experiments.results.words.summary_sentence import SummaryTerms, summarise
from tests.experiments.results.verdict.test_decision import NO_BLOCKERS, rate

VISITORS = SummaryTerms("visitor")


def test_without_a_pace_the_summary_says_come_back_tomorrow() -> None:
    primary = rate("conversion_rate", "primary", (10_000, 250), (10_000, 262))
    decision = decide(primary, [], NO_BLOCKERS, PlanProgress(20_000, 10_000, 2, daily_units=None))
    assert decision.verdict is Verdict.KEEP_RUNNING and decision.additional_days is None
    summary = summarise(decision, primary, [], "control", (), VISITORS)
    assert summary.endswith(
        "Keep running: about 10,000 more visitors per variant; too early to estimate how long: "
        "come back tomorrow."
    )


def test_beyond_a_year_is_one_calm_sentence() -> None:
    primary = rate("conversion_rate", "primary", (10_000, 250), (10_000, 262))
    slow = PlanProgress(
        20_000, 10_000, 2, daily_units=40.0
    )  # 10,000 more each at 20 a day per variant
    decision = decide(primary, [], NO_BLOCKERS, slow)
    assert decision.additional_days is not None and decision.additional_days > 365
    summary = summarise(decision, primary, [], "control", (), VISITORS)
    assert "years" not in summary and "days" not in summary
    assert summary.endswith(
        "Keep running: about 10,000 more visitors per variant. At the current traffic that takes "
        "more than a year, so this change may be too small to measure here; a bolder one is read "
        "sooner."
    )
