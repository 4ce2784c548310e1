"""The experiment's `design` and `metrics` columns: read back as their models, stored as the
same plain JSON as before they were typed (rows written then still load)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlmodel import Session

from experiments import definitions
from experiments.models.experiment import Design, ExperimentCreate, MetricSelection
from tests.api.helpers import experiment_body

KEY = "checkout-onepage"


def _create(session: Session) -> None:
    definitions.create_experiment(session, ExperimentCreate.model_validate(experiment_body(KEY)))


def _stored(session: Session, column: str) -> object:
    query = text(f"SELECT {column} FROM experiments WHERE key = :key")  # noqa: S608 (a name of ours)
    raw = session.execute(query, {"key": KEY}).scalar_one()
    return json.loads(raw) if isinstance(raw, str) else raw


def test_columns_load_as_models_and_store_their_json_dumps(memory_session: Session) -> None:
    _create(memory_session)
    memory_session.commit()
    memory_session.expire_all()
    experiment = definitions.get_experiment(memory_session, KEY)
    assert isinstance(experiment.design, Design)
    assert isinstance(experiment.metrics, MetricSelection)
    assert _stored(memory_session, "design") == experiment.design.model_dump(mode="json")
    assert _stored(memory_session, "metrics") == experiment.metrics.model_dump(mode="json")


def test_a_row_stored_with_fewer_fields_loads_with_the_defaults(memory_session: Session) -> None:
    definitions.create_experiment(
        memory_session, ExperimentCreate.model_validate(experiment_body(KEY))
    )
    memory_session.commit()
    old = {"design": {"alpha": 0.1}, "metrics": {"primary": "conversion_rate"}}
    for column, value in old.items():
        memory_session.execute(
            text(f"UPDATE experiments SET {column} = :value WHERE key = :key"),  # noqa: S608
            {"value": json.dumps(value), "key": KEY},
        )
    memory_session.commit()
    memory_session.expire_all()
    experiment = definitions.get_experiment(memory_session, KEY)
    assert experiment.design == Design(alpha=0.1)
    assert experiment.metrics == MetricSelection(primary="conversion_rate")


def test_a_dict_assigned_to_a_model_column_is_refused(memory_session: Session) -> None:
    definitions.create_experiment(
        memory_session, ExperimentCreate.model_validate(experiment_body(KEY))
    )
    experiment = definitions.get_experiment(memory_session, KEY)
    experiment.design = {"alpha": 0.1}  # type: ignore[assignment]
    memory_session.add(experiment)
    with pytest.raises(Exception, match="expected a Design, got dict"):
        memory_session.flush()
