"""The documented wire format (`experiments.events.wire`, the OpenAPI's event models) and the
validator the intake uses (`validation.validate_event`) accept and refuse the same events.

Each field draws from values that keep or break a rule the models state (types, required
fields, lengths, slugs, the value's range, flat properties, unknown fields). Values that break
only the rules the models cannot state (the catalogue, the time window, storable text,
whitespace-only ids, the `srv-` prefix, the size of `properties`) are left out: the validator
alone refuses those, as the models' descriptions say.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from hypothesis import given
from hypothesis import strategies as st
from pydantic import Field, TypeAdapter, ValidationError

from experiments.events.fields import TimeWindow
from experiments.events.intake import parse_document
from experiments.events.types import KnownExperiment
from experiments.events.validation import validate_event
from experiments.events.wire import ConversionDoc, ExposureDoc

DOCUMENTED = TypeAdapter(Annotated[ExposureDoc | ConversionDoc, Field(discriminator="type")])
RECEIVED = datetime(2026, 12, 1, 12, tzinfo=UTC)
WINDOW = TimeWindow.at(RECEIVED, max_age_days=90)
CATALOG = {"checkout": KnownExperiment("running", frozenset({"a", "b"}))}
MISSING = object()
HOUR_AGO = RECEIVED - timedelta(hours=1)
MILLIS = int(HOUR_AGO.timestamp() * 1000)

FIELDS: dict[str, list[Any]] = {
    "type": [MISSING, "exposure", "conversion", "visit", 1, None],
    "unit_id": [MISSING, "u-1", "bruker-ø", "x" * 256, "x" * 257, "", 5, None],
    "event_id": [MISSING, None, "e-1", "e" * 64, "e" * 65, "", 3, ["e"]],
    "timestamp": [MISSING, None, MILLIS, MILLIS + 0.5, HOUR_AGO.isoformat(), True, [], {}],
    "experiment": [MISSING, "checkout", "Not A Slug", 7, None],
    "variant": [MISSING, "a", "b", "", 7],
    "name": [MISSING, "purchase", "add_to_cart", "Not A Slug", 3, None],
    "value": [MISSING, None, 0, 12.5, -1e12, 1e12, 1e12 + 1, 10**20, "12", True],
    "properties": [
        MISSING,
        None,
        {},
        {"plan": "pro", "seats": 3, "share": 0.5, "trial": False, "coupon": None},
        {"items": [1, 2]},
        {"nested": {"a": 1}},
        "plan=pro",
        [1],
    ],
    "colour": [MISSING, MISSING, MISSING, "red"],
}


VALID: dict[str, list[dict[str, Any]]] = {
    "exposure": [{"unit_id": "u-1", "experiment": "checkout", "variant": "a"}],
    "conversion": [
        {"unit_id": "u-1", "name": "purchase"},
        {"unit_id": "u-1", "name": "purchase", "value": 12.5, "properties": {"plan": "pro"}},
    ],
}


@st.composite
def wire_events(draw: st.DrawFn) -> dict[str, Any]:
    """A valid event of either type with up to three fields replaced by any drawn value."""
    kind = draw(st.sampled_from(sorted(VALID)))
    event: dict[str, Any] = {"type": kind, **draw(st.sampled_from(VALID[kind]))}
    for name in draw(st.lists(st.sampled_from(sorted(FIELDS)), max_size=3, unique=True)):
        event[name] = draw(st.sampled_from(FIELDS[name]))
    return {name: value for name, value in event.items() if value is not MISSING}


def _documented_accepts(event: dict[str, Any]) -> bool:
    try:
        DOCUMENTED.validate_json(json.dumps(event))
    except ValidationError:
        return False
    return True


def _validator_accepts(event: dict[str, Any]) -> bool:
    received = parse_document(json.dumps(event).encode())  # as the intake parses a body
    return not isinstance(validate_event(received, WINDOW, CATALOG), tuple)


@given(wire_events())
def test_the_documented_models_and_the_validator_agree(event: dict[str, Any]) -> None:
    assert _documented_accepts(event) == _validator_accepts(event), event


def test_the_drawn_events_include_accepted_ones_of_both_types() -> None:
    exposure = {"type": "exposure", "unit_id": "u", "experiment": "checkout", "variant": "a"}
    conversion = {"type": "conversion", "unit_id": "u", "name": "purchase", "value": 1}
    for event in (exposure, conversion):
        assert _documented_accepts(event) and _validator_accepts(event)
