"""What was done with a stopped experiment, said beside what the data said at the stop."""

from __future__ import annotations

from datetime import UTC, datetime

from experiments.models.experiment import Design, Experiment, MetricSelection
from experiments.results.render import outcome_page
from experiments.results.verdict.stop_outcome import (
    StopOutcome,
    stop_outcome_of,
    summary_after_stop,
)

STOP = datetime(2026, 3, 1, 14, 30, tzinfo=UTC)


def experiment(stopped_at: datetime | None, winner: str | None) -> Experiment:
    variants = [
        {"key": "multi-step", "name": "A", "weight": 1},
        {"key": "one-page", "name": "B", "weight": 1},
    ]
    return Experiment(
        key="e",
        salt="s",
        name="E",
        unit_type="visitor",
        variants=variants,
        design=Design(),
        metrics=MetricSelection(primary="conversion_rate"),
        created_at=STOP,
        updated_at=STOP,
        stopped_at=stopped_at,
        winner=winner,
    )


def test_statements() -> None:
    assert StopOutcome(STOP, "one-page", "multi-step").statement == (
        "stopped on 2026-03-01; one-page shipped to everyone"
    )
    assert (
        StopOutcome(STOP, None, "multi-step").statement == "stopped on 2026-03-01 without a winner"
    )
    assert StopOutcome(STOP, "multi-step", "multi-step").statement == (
        "stopped on 2026-03-01; multi-step (the control) kept for everyone"
    )


def test_headlines_say_what_was_done() -> None:
    assert (
        StopOutcome(STOP, "one-page", "multi-step").headline == "Shipped one-page on 1 March 2026"
    )
    assert (
        StopOutcome(STOP, None, "multi-step").headline == "Stopped without a winner on 1 March 2026"
    )
    assert StopOutcome(STOP, "multi-step", "multi-step").headline == (
        "Kept multi-step (the control) on 1 March 2026"
    )


def test_only_a_stopped_experiment_has_an_outcome() -> None:
    assert stop_outcome_of(experiment(None, None)) is None
    outcome = stop_outcome_of(experiment(STOP, "one-page"))
    assert outcome == StopOutcome(STOP, "one-page", "multi-step")
    assert outcome is not None and outcome_page(outcome).model_dump(mode="json") == {
        "stopped_at": "2026-03-01T14:30:00+00:00",
        "winner": "one-page",
        "control": "multi-step",
        "statement": "stopped on 2026-03-01; one-page shipped to everyone",
        "headline": "Shipped one-page on 1 March 2026",
    }


def test_the_summary_leads_with_what_was_done() -> None:
    said = "Variant one-page raised purchase conversion by 12 %. Ship one-page."
    assert summary_after_stop(said, None) == said
    assert summary_after_stop(said, StopOutcome(STOP, "one-page", "multi-step")) == (
        "Shipped one-page on 1 March 2026. At the stop the data said: " + said
    )
