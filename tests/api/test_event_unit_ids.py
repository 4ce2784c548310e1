"""POST /v1/events refuses exactly the unit ids that the SDK and POST /v1/assign refuse."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from api.routes.assign import AssignRequest
from experiments.events.catalog import ExperimentSnapshot
from experiments.events.validation import TimeWindow, validate_batch
from tests.api.helpers import experiment_body
from vekst_sdk import InvalidInputError
from vekst_sdk.spec import validate_unit_id

Headers = dict[str, str]
# Any text, lone surrogates and NUL included, and the edge cases of the rule.
any_text = st.text(st.characters(exclude_categories=[]), max_size=300) | st.sampled_from(
    [" ", "\t\n", "\u3000", "\x1f", " a ", "a\x00", "\ud800", "x" * 256, "x" * 257]
)
whitespace = st.text(st.sampled_from(" \t\n\r\x0b\x0c\x1c\x85\xa0\u2028\u3000"), min_size=1)


def intake_accepts(unit_id: object) -> bool:
    """Whether the intake accepts a conversion from `unit_id`, by the usual and the full check."""
    event = {"type": "conversion", "unit_id": unit_id, "name": "purchase"}
    window = TimeWindow.at(datetime.now(UTC), max_age_days=90)
    batch = validate_batch(
        [event, dict(event, value="not a number")], window, ExperimentSnapshot({})
    )
    # The second event always takes the full check; both must agree.
    assert len(batch.events) == (1 if batch.rejected[-1].errors[0].field == "value" else 0)
    return len(batch.events) == 1


def sdk_accepts(unit_id: object) -> bool:
    try:
        validate_unit_id(unit_id)
    except InvalidInputError:
        return False
    return True


def assign_accepts(unit_id: str) -> bool:
    try:
        AssignRequest.model_validate({"unit_id": unit_id})
    except ValidationError:
        return False
    return True


@given(unit_id=any_text | whitespace | st.none() | st.integers() | st.booleans())
def test_the_intake_accepts_a_unit_id_iff_the_sdk_does(unit_id: object) -> None:
    # NUL is the one exception: the SDK hashes it, no database can store it.
    if isinstance(unit_id, str) and "\x00" in unit_id:
        assert not intake_accepts(unit_id)
    else:
        assert intake_accepts(unit_id) == sdk_accepts(unit_id)


@given(unit_id=any_text | whitespace)
def test_the_intake_accepts_a_unit_id_iff_assign_does(unit_id: str) -> None:
    assert intake_accepts(unit_id) == assign_accepts(unit_id)


@pytest.mark.parametrize("unit_id", [" ", "\t", "\n \u3000"])
def test_a_whitespace_unit_id_rejects_only_its_event(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers, unit_id: str
) -> None:
    client.post("/v1/experiments", json=experiment_body(), headers=admin_headers)
    client.post("/v1/experiments/checkout-onepage/start", headers=admin_headers)
    good: dict[str, Any] = {"type": "conversion", "unit_id": "visitor-1", "name": "purchase"}
    events = [good, dict(good, unit_id=unit_id), dict(good, unit_id="visitor-2")]
    response = client.post("/v1/events", json={"events": events}, headers=sdk_headers)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["accepted"] == 2
    assert answer["rejected"] == [
        {"index": 1, "errors": [{"field": "unit_id", "rule": "must not be only whitespace"}]}
    ]
