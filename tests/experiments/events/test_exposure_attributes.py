"""Exposures carry attributes (issue #23): validated by `/v1/assign`'s rules, kept only when the
experiment names them as dimensions, and carried unchanged through entries and the store."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from experiments.db import make_engine
from experiments.events.catalog import ExperimentSnapshot
from experiments.events.entries import EVENTS_FIELD, RECEIVED_FIELD, decode_entry, encode_events
from experiments.events.intake import parse_document
from experiments.events.store import store_events
from experiments.events.types import (
    AttributedExposure,
    Event,
    ExposureEvent,
    FieldError,
    KnownExperiment,
    exposure_attributes,
)
from experiments.events.validation import TimeWindow, validate_batch, validate_event
from experiments.models.event import Exposure

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
WINDOW = TimeWindow.at(NOW, max_age_days=90)
DIMENSIONS = frozenset({"device", "market"})
CATALOG = ExperimentSnapshot(
    {
        "checkout": KnownExperiment("running", frozenset({"a", "b"}), DIMENSIONS),
        "plain": KnownExperiment("running", frozenset({"a", "b"})),
    }
)


def exposure(attributes: Any, experiment: str = "checkout") -> dict[str, Any]:
    return {
        "type": "exposure",
        "unit_id": "u-1",
        "experiment": experiment,
        "variant": "a",
        "attributes": attributes,
    }


def received(raw_json: str) -> Any:
    """An event as the intake reads it from a body (huge numbers, lone surrogates and all)."""
    return parse_document(f'{{"events": [{raw_json}]}}'.encode())["events"][0]


def test_only_the_experiments_dimensions_are_kept() -> None:
    sent = {"device": "mobile", "market": "NO", "email": "kari@example.no", "cart_value": 649}
    event = validate_event(exposure(sent), WINDOW, CATALOG)
    assert isinstance(event, ExposureEvent)
    assert exposure_attributes(event) == {"device": "mobile", "market": "NO"}


@pytest.mark.parametrize(
    ("experiment", "attributes"),
    [("checkout", {"email": "kari@example.no"}), ("checkout", {}), ("plain", {"device": "x"})],
)
def test_an_exposure_keeping_no_attribute_stores_none(
    experiment: str, attributes: dict[str, Any]
) -> None:
    event = validate_event(exposure(attributes, experiment), WINDOW, CATALOG)
    assert type(event) is ExposureEvent  # a plain exposure, as cheap as one sent without


def test_an_exposure_without_attributes_is_valid_as_before() -> None:
    raw = exposure(None)
    del raw["attributes"]
    event = validate_event(raw, WINDOW, CATALOG)
    assert type(event) is ExposureEvent  # a plain exposure, as cheap as one sent without


BAD_ATTRIBUTES = [
    ('{"device": "mob\\u0000ile"}', "attributes.device", "NUL"),
    ('{"device": "\\ud800"}', "attributes.device", "surrogate"),
    ('{"\\udc00": "x"}', "attributes.\\udc00", "surrogate"),
    # Integers orjson keeps as integers (beyond 64 unsigned bits it reads a double, as for
    # every number of an event).
    ('{"device": 18446744073709551615}', "attributes.device", "64 bits"),
    ('{"device": 9223372036854775808}', "attributes.device", "64 bits"),
    ('{"device": 1e999}', "attributes.device", "finite"),
    ('{"device": null}', "attributes.device", "no nesting or null"),
    ('{"device": {"kind": "phone"}}', "attributes.device", "no nesting"),
    ('{"device": ["phone"]}', "attributes.device", "no nesting"),
    ('{"": "x"}', "attributes.", "non-empty"),
    (json.dumps({"d" * 129: "x"}), f"attributes.{'d' * 129}", "at most 128"),
    ('{"device": "' + "x" * 1025 + '"}', "attributes.device", "at most 1024"),
    (json.dumps({f"a{i}": i for i in range(101)}), "attributes", "at most 100"),
    ('"device=mobile"', "attributes", "must be an object"),
    ("[1]", "attributes", "must be an object"),
]


@pytest.mark.parametrize(("attributes", "field", "rule"), BAD_ATTRIBUTES)
def test_bad_attributes_reject_the_event_naming_the_attribute(
    attributes: str, field: str, rule: str
) -> None:
    raw = received(
        '{"type": "exposure", "unit_id": "u", "experiment": "checkout", "variant": "a", '
        f'"attributes": {attributes}}}'
    )
    errors = validate_event(raw, WINDOW, CATALOG)
    assert isinstance(errors, tuple), errors
    assert [error.field for error in errors] == [field]
    assert rule in errors[0].rule


@pytest.mark.parametrize(("attributes", "field", "rule"), BAD_ATTRIBUTES)
def test_a_bad_attribute_never_costs_a_good_event_its_place(
    attributes: str, field: str, rule: str
) -> None:
    good = exposure({"device": "desktop"})
    bad = received(
        '{"type": "exposure", "unit_id": "u", "experiment": "checkout", "variant": "b", '
        f'"attributes": {attributes}}}'
    )
    batch = validate_batch([good, bad, good | {"unit_id": "u-2"}], WINDOW, CATALOG)
    assert batch.positions() == [0, 2]
    assert [exposure_attributes(e) for e in batch.events if isinstance(e, ExposureEvent)] == [
        {"device": "desktop"},
        {"device": "desktop"},
    ]
    assert [(r.index, r.errors[0].field) for r in batch.rejected] == [(1, field)]
    assert rule in batch.rejected[0].errors[0].rule


def test_attributes_are_not_a_field_of_conversions() -> None:
    raw = {"type": "conversion", "unit_id": "u", "name": "purchase", "attributes": {"a": 1}}
    assert validate_event(raw, WINDOW, CATALOG) == (
        FieldError("attributes", "is not a known field of conversion events"),
    )


attribute_values = st.one_of(
    st.text(max_size=20),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
attribute_maps = st.dictionaries(
    st.sampled_from(["device", "market", "source", "", "email"]), attribute_values, max_size=4
)


@given(st.one_of(st.none(), attribute_maps))
def test_the_batch_path_answers_as_event_by_event(attributes: dict[str, Any] | None) -> None:
    raw = exposure(attributes)
    batch = validate_batch([raw], WINDOW, CATALOG)
    alone = validate_event(raw, WINDOW, CATALOG)
    if isinstance(alone, tuple):
        assert batch.rejected[0].errors == alone
    else:
        assert isinstance(alone, ExposureEvent)
        [event] = batch.events
        assert isinstance(event, ExposureEvent)
        assert type(event) is type(alone)
        assert exposure_attributes(event) == exposure_attributes(alone)


def test_attributes_survive_a_stream_entry_and_entries_without_them_read_as_before() -> None:
    events: list[Event] = [
        AttributedExposure("x1", "u", NOW, "checkout", "a", "sdk", {"device": "mobile", "n": 3}),
        ExposureEvent("x2", "u", NOW, "checkout", "a"),
    ]
    fields = {RECEIVED_FIELD: b"1764000000000000", EVENTS_FIELD: encode_events(events)}
    assert [event for event, _ in decode_entry(fields)] == events
    # A plain exposure is encoded as before exposures had attributes: without the field.
    encoded = json.loads(encode_events(events))
    assert "attributes" in encoded[0] and "attributes" not in encoded[1]
    encoded[0]["attributes"] = None
    fields[EVENTS_FIELD] = json.dumps(encoded).encode()
    assert [type(event) for event, _ in decode_entry(fields)] == [ExposureEvent, ExposureEvent]


def test_attributes_are_stored_with_the_exposure(database_url: str) -> None:
    engine = make_engine(database_url)
    events: list[Event] = [
        AttributedExposure(
            "x1", "u1", NOW, "checkout", "a", "sdk", {"device": "mobile", "n": 2**62}
        ),
        AttributedExposure("x2", "u2", NOW, "checkout", "b", "sdk", {"market": "SE", "ø": "å"}),
        ExposureEvent("x3", "u3", NOW, "checkout", "a"),
    ]
    assert store_events(engine, [(event, NOW) for event in events]).inserted == 3
    # Plain and attributed exposures go by statements of their own; repeats count exactly.
    more: list[Event] = [AttributedExposure("x4", "u4", NOW, "checkout", "a", "sdk", {"d": 1})]
    outcome = store_events(engine, [(event, NOW) for event in [*events, *more]])
    assert (outcome.inserted, outcome.duplicates) == (1, 3)
    with Session(engine) as session:
        rows = session.exec(
            select(Exposure.event_id, Exposure.attributes).order_by(col(Exposure.event_id))
        ).all()
    assert rows == [
        ("x1", {"device": "mobile", "n": 2**62}),
        ("x2", {"market": "SE", "ø": "å"}),
        ("x3", None),
        ("x4", {"d": 1}),
    ]
    engine.dispose()
