"""The lifecycle rules in the domain (no HTTP): draft -> running -> stopped -> archived, what
each status lets change, and the audit record of every step."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from experiments import definitions, lifecycle
from experiments.audit import entity_history
from experiments.errors import ConflictError, InvalidInputError
from experiments.models.audit import AuditEntity
from experiments.models.experiment import ExperimentCreate, ExperimentStatus, ExperimentUpdate
from tests.api.helpers import experiment_body

KEY = "checkout-onepage"
# The checkout template's selection, revenue capped at its 99.9th percentile.
METRICS = {
    "primary": "conversion_rate",
    "secondary": ["aov", "revenue_per_visitor", "checkout_start_rate"],
    "guardrails": ["cart_abandonment", "refund_rate"],
    "cap_percentiles": {"aov": 99.9, "revenue_per_visitor": 99.9},
}


def draft(session: Session, **changes: Any) -> None:
    body = ExperimentCreate.model_validate(experiment_body(KEY, **changes))
    definitions.create_experiment(session, body)


def running(session: Session, **changes: Any) -> None:
    draft(session, **changes)
    lifecycle.start_experiment(session, KEY)


def update(session: Session, **patch: Any) -> None:
    lifecycle.update_experiment(session, KEY, ExperimentUpdate.model_validate(patch))


def status(session: Session) -> ExperimentStatus:
    return ExperimentStatus(definitions.get_experiment(session, KEY).status)


def test_an_experiment_moves_from_draft_to_archived_and_each_step_is_recorded(
    memory_session: Session,
) -> None:
    draft(memory_session)
    started = lifecycle.start_experiment(memory_session, KEY)
    assert started.started_at is not None
    assert started.design.planned_units_per_variant is not None  # the plan is fixed now
    stopped = lifecycle.stop_experiment(memory_session, KEY, winner="one-page")
    assert (stopped.winner, stopped.stopped_at is not None) == ("one-page", True)
    lifecycle.archive_experiment(memory_session, KEY)
    assert status(memory_session) == ExperimentStatus.ARCHIVED
    history = entity_history(memory_session, AuditEntity.EXPERIMENT, KEY)
    assert [entry.action for entry in history] == [
        "created",
        "started",
        "stopped",
        "archived",
    ]


@pytest.mark.parametrize(
    ("steps", "move"),
    [
        ([], lifecycle.stop_experiment),  # only a running experiment stops
        (["start"], lifecycle.start_experiment),  # only a draft starts
        (["start"], lifecycle.archive_experiment),  # stop it first
        (["start", "stop"], lifecycle.start_experiment),  # a stopped one never runs again
        (["start", "stop", "archive"], lifecycle.archive_experiment),  # archived already
    ],
)
def test_a_move_the_status_does_not_allow_is_a_conflict(
    memory_session: Session, steps: list[str], move: Any
) -> None:
    draft(memory_session)
    moves = {
        "start": lifecycle.start_experiment,
        "stop": lifecycle.stop_experiment,
        "archive": lifecycle.archive_experiment,
    }
    for step in steps:
        moves[step](memory_session, KEY)
    with pytest.raises(ConflictError):
        move(memory_session, KEY)


def test_a_winner_must_be_a_variant(memory_session: Session) -> None:
    running(memory_session)
    with pytest.raises(InvalidInputError) as refused:
        lifecycle.stop_experiment(memory_session, KEY, winner="no-such-variant")
    assert refused.value.field == "winner"
    assert status(memory_session) == ExperimentStatus.RUNNING


def test_a_draft_changes_freely(memory_session: Session) -> None:
    draft(memory_session)
    update(
        memory_session,
        unit_type="account",
        traffic=0.2,
        metrics={"primary": "revenue_per_visitor"},
    )
    experiment = definitions.get_experiment(memory_session, KEY)
    assert (experiment.unit_type, experiment.traffic) == ("account", 0.2)
    assert experiment.metrics.primary == "revenue_per_visitor"


@pytest.mark.parametrize(
    ("patch", "frozen"),
    [
        ({"unit_type": "account"}, "unit_type"),
        ({"layer": "checkout"}, "layer"),
        ({"design": {"alpha": 0.01}}, "design"),
        ({"metrics": {**METRICS, "primary": "add_to_cart_rate"}}, "metrics.primary"),
        ({"metrics": {**METRICS, "guardrails": ["refund_rate"]}}, "metrics.guardrails"),
        ({"variants": [{"key": key, "name": key, "weight": 1} for key in "ab"]}, "variants"),
    ],
)
def test_the_question_is_frozen_once_started(
    memory_session: Session, patch: dict[str, Any], frozen: str
) -> None:
    running(memory_session)
    with pytest.raises(ConflictError, match=f"^{frozen} cannot change once"):
        update(memory_session, **patch)


def test_a_running_experiment_still_takes_a_new_name_and_secondary_metrics(
    memory_session: Session,
) -> None:
    running(memory_session)
    # The guardrails sent back in another order are no change.
    secondary = ["aov", "revenue_per_visitor"]
    metrics = {**METRICS, "guardrails": ["refund_rate", "cart_abandonment"], "secondary": secondary}
    update(memory_session, name="Renamed", metrics=metrics)
    experiment = definitions.get_experiment(memory_session, KEY)
    assert experiment.name == "Renamed"
    assert experiment.metrics.secondary == secondary
    actions = [e.action for e in entity_history(memory_session, AuditEntity.EXPERIMENT, KEY)]
    assert actions[-1] == "updated"


def test_traffic_may_only_grow_while_running(memory_session: Session) -> None:
    running(memory_session, traffic=0.5, layer="checkout")
    update(memory_session, traffic=0.8)
    experiment = definitions.get_experiment(memory_session, KEY)
    assert experiment.traffic == 0.8
    # The experiment's slice of its layer grew with it.
    assert sum(end - start for start, end in experiment.layer_ranges) == 8000
    with pytest.raises(ConflictError, match="may only grow"):
        update(memory_session, traffic=0.6)
    lifecycle.stop_experiment(memory_session, KEY)
    with pytest.raises(ConflictError, match="stopped experiment cannot change"):
        update(memory_session, traffic=0.9)


def test_an_archived_experiment_changes_no_more(memory_session: Session) -> None:
    draft(memory_session)
    lifecycle.archive_experiment(memory_session, KEY)
    with pytest.raises(ConflictError, match="archived"):
        update(memory_session, name="Renamed")


def test_targeting_is_checked_on_every_update(memory_session: Session) -> None:
    running(memory_session)
    with pytest.raises(InvalidInputError) as refused:
        update(memory_session, targeting={"attribute": "country", "op": "near", "value": "NO"})
    assert refused.value.field == "targeting.op"


@pytest.mark.parametrize(
    ("reason", "rule"),
    [("a\x00b", "NUL"), ("\ud800", "surrogates"), ("x" * 501, "at most 500 characters")],
)
def test_a_stop_reason_must_be_storable_text(
    memory_session: Session, reason: str, rule: str
) -> None:
    running(memory_session)
    with pytest.raises(InvalidInputError, match=rule) as refused:
        lifecycle.stop_experiment(memory_session, KEY, winner="one-page", reason=reason)
    assert refused.value.field == "reason"
    assert status(memory_session) == ExperimentStatus.RUNNING
