"""Creating, reading and checking experiment definitions, in the domain (no HTTP)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from experiments import definitions
from experiments.audit import entity_history
from experiments.errors import ConflictError, InvalidInputError, NotFoundError
from experiments.models.audit import AuditEntity
from experiments.models.experiment import ExperimentCreate, ExperimentStatus, ExperimentUpdate
from tests.api.helpers import experiment_body

BAD_TARGETING = {"attribute": "country", "op": "is-roughly", "value": "NO"}


def variant(key: str) -> dict[str, Any]:
    return {"key": key, "name": key.upper(), "weight": 1}


def create(session: Session, key: str = "checkout-onepage", **changes: Any) -> None:
    definitions.create_experiment(
        session, ExperimentCreate.model_validate(experiment_body(key, **changes))
    )


def test_a_new_experiment_is_a_draft_with_its_templates_defaults(memory_session: Session) -> None:
    create(memory_session)
    public = definitions.to_public(definitions.get_experiment(memory_session, "checkout-onepage"))
    assert public.status == ExperimentStatus.DRAFT
    assert public.unit_type == "visitor"
    assert public.metrics.primary == "conversion_rate"
    assert public.metrics.guardrails == ["cart_abandonment", "refund_rate"]
    assert [variant.key for variant in public.variants] == ["multi-step", "one-page"]
    history = entity_history(memory_session, AuditEntity.EXPERIMENT, "checkout-onepage")
    assert [entry.action for entry in history] == ["created"]


def test_a_key_is_taken_once(memory_session: Session) -> None:
    create(memory_session)
    with pytest.raises(ConflictError, match="exists already"):
        create(memory_session)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"template": None}, "metrics"),
        ({"metrics": {"primary": "no_such_metric"}}, "metrics.primary"),
        ({"targeting": BAD_TARGETING}, "targeting.op"),
        ({"overrides": {"qa-anna": "no-such-variant"}}, "overrides.qa-anna"),
        # The config carries digests, so the unit-id rule is checked on the ids themselves.
        ({"overrides": {" \u3000": "one-page"}}, "overrides. \u3000"),
        ({"variants": [variant("a"), variant("a")]}, "variants[1].key"),
    ],
)
def test_a_broken_definition_is_refused_naming_its_field(
    memory_session: Session, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        create(memory_session, **changes)
    assert refused.value.field == field


def test_an_unknown_key_is_not_found(memory_session: Session) -> None:
    with pytest.raises(NotFoundError):
        definitions.get_experiment(memory_session, "nowhere")


def test_the_list_pages_and_filters_by_status(memory_session: Session) -> None:
    for key in ("one", "two", "three"):
        create(memory_session, key)
    page = definitions.list_experiments(memory_session, limit=2, offset=1)
    assert [item.key for item in page.items] == ["two", "three"]
    assert page.total == 3
    running = definitions.list_experiments(memory_session, 10, 0, ExperimentStatus.RUNNING)
    assert running.total == 0


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"name": None}, "name"),
        ({"targeting": BAD_TARGETING}, "targeting.op"),
        (
            {"metrics": {"primary": "conversion_rate", "secondary": ["nope"]}},
            "metrics.secondary[0]",
        ),
        ({"overrides": {"qa-anna": "control"}}, "overrides.qa-anna"),
    ],
)
def test_a_broken_patch_is_refused_naming_its_field(
    memory_session: Session, patch: dict[str, Any], field: str
) -> None:
    create(memory_session)
    experiment = definitions.get_experiment(memory_session, "checkout-onepage")
    with pytest.raises(InvalidInputError) as refused:
        definitions.check_patch(memory_session, experiment, ExperimentUpdate.model_validate(patch))
    assert refused.value.field == field


def test_a_patch_stores_only_the_fields_sent(memory_session: Session) -> None:
    create(memory_session, targeting={"attribute": "country", "op": "eq", "value": "NO"})
    experiment = definitions.get_experiment(memory_session, "checkout-onepage")
    patch = ExperimentUpdate.model_validate({"name": "Renamed", "targeting": None})
    definitions.check_patch(memory_session, experiment, patch)
    definitions.write_patch(memory_session, experiment, patch)
    public = definitions.to_public(definitions.get_experiment(memory_session, "checkout-onepage"))
    assert (public.name, public.targeting) == ("Renamed", None)
    assert public.hypothesis == "A one-page checkout raises purchase conversion"
    assert public.metrics.primary == "conversion_rate"
