"""The use cases the API and the pages call: a stop takes its final look, a paste its look."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from experiments import definitions, lifecycle
from experiments.models.experiment import ExperimentCreate
from experiments.models.pasted_counts import CountsCreate
from experiments.operations import paste_counts_and_take_look, stop_and_take_final_look
from experiments.results.snapshots import latest_snapshot
from tests.api.helpers import equal_split_body


def started(session: Session, key: str, template: str, primary: str) -> None:
    body = equal_split_body(key, key.title(), template, {"control": "A", "b": "B"})
    body["metrics"] = {"primary": primary}
    definitions.create_experiment(session, ExperimentCreate.model_validate(body))
    experiment = lifecycle.start_experiment(session, key)
    experiment.started_at = datetime.now(UTC) - timedelta(hours=1)
    session.add(experiment)
    session.flush()


def test_a_stop_takes_the_final_look_up_to_the_stop(memory_session: Session) -> None:
    started(memory_session, "hero", "checkout", "conversion_rate")
    assert latest_snapshot(memory_session, "hero") is None
    stopped = stop_and_take_final_look(memory_session, "hero", "b")
    look = latest_snapshot(memory_session, "hero")
    assert look is not None and stopped.stopped_at is not None
    assert look.as_of.replace(tzinfo=UTC) == stopped.stopped_at.replace(tzinfo=UTC)


def test_a_paste_takes_a_look_on_the_pasted_counts(memory_session: Session) -> None:
    started(memory_session, "letter", "newsletter", "newsletter_click_rate")
    counts = CountsCreate.model_validate(
        {
            "variants": [
                {"key": "control", "sent": 5000, "clicked": 150},
                {"key": "b", "sent": 5000, "clicked": 210},
            ]
        }
    )
    paste_counts_and_take_look(memory_session, "letter", counts)
    look = latest_snapshot(memory_session, "letter")
    assert look is not None and look.results["source"] == "pasted_counts"
