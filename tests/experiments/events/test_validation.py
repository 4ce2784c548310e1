"""Property-based tests of event validation: valid events pass whole, each fault is named."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from experiments.events.catalog import ExperimentSnapshot
from experiments.events.types import ConversionEvent, ExposureEvent, KnownExperiment
from experiments.events.validation import (
    MAX_PROPERTIES_BYTES,
    TimeWindow,
    validate_batch,
    validate_event,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
WINDOW = TimeWindow.at(NOW, max_age_days=90)
CATALOG = ExperimentSnapshot(
    {
        "checkout-onepage": KnownExperiment("running", frozenset({"control", "one-page"})),
        "cta-colour": KnownExperiment("stopped", frozenset({"blue", "green"})),
        "newsletter-subject": KnownExperiment("draft", frozenset({"a", "b"})),
        "old-test": KnownExperiment("archived", frozenset({"a", "b"})),
    }
)

slugs = st.from_regex(r"[a-z0-9_-]{1,64}", fullmatch=True)
# Storable text: no NUL, no lone surrogate (both are refused; see test_hostile_input.py).
storable = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
ids = st.text(storable, min_size=1, max_size=64).filter(lambda text: not text.startswith("srv-"))
# Not only whitespace: such ids are refused like the SDK refuses them (see test_unit_ids.py).
unit_ids = st.text(storable, min_size=1, max_size=256).filter(lambda text: not text.isspace())
moments = st.datetimes(
    min_value=(NOW - timedelta(days=89)).replace(tzinfo=None),
    max_value=(NOW + timedelta(minutes=4)).replace(tzinfo=None),
    timezones=st.just(UTC),
)
timestamps = st.one_of(
    st.none(),
    moments.map(lambda moment: int(moment.timestamp() * 1000)),
    moments.map(lambda moment: moment.isoformat()),
)
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
values = st.floats(-1e12, 1e12, allow_nan=False)
flat_values = st.one_of(
    st.none(), st.booleans(), finite, st.text(storable, max_size=20), st.integers(-9, 9)
)
properties = st.dictionaries(st.text(storable, max_size=10), flat_values, max_size=8)
targets = st.sampled_from(
    [("checkout-onepage", "control"), ("checkout-onepage", "one-page"), ("cta-colour", "green")]
)


def _optional(event: dict[str, Any], field: str, value: object) -> dict[str, Any]:
    if value is not None:
        event[field] = value
    return event


@st.composite
def valid_exposures(draw: st.DrawFn) -> dict[str, Any]:
    experiment, variant = draw(targets)
    event = {"type": "exposure", "unit_id": draw(unit_ids)}
    event.update(experiment=experiment, variant=variant)
    _optional(event, "event_id", draw(st.none() | ids))
    return _optional(event, "timestamp", draw(timestamps))


@st.composite
def valid_conversions(draw: st.DrawFn) -> dict[str, Any]:
    event = {"type": "conversion", "unit_id": draw(unit_ids), "name": draw(slugs)}
    _optional(event, "event_id", draw(st.none() | ids))
    _optional(event, "timestamp", draw(timestamps))
    _optional(event, "value", draw(st.none() | values | st.integers(-(10**6), 10**6)))
    return _optional(event, "properties", draw(st.none() | properties))


valid_events = st.one_of(valid_exposures(), valid_conversions())


@given(valid_events)
def test_valid_events_pass_with_their_fields(raw: dict[str, Any]) -> None:
    event = validate_event(raw, WINDOW, CATALOG)
    assert isinstance(event, ExposureEvent | ConversionEvent), event
    assert event.unit_id == raw["unit_id"]
    assert event.event_id == raw.get("event_id", event.event_id)
    if "event_id" not in raw:
        assert event.event_id.startswith("srv-")
    assert WINDOW.oldest <= event.timestamp <= WINDOW.newest
    if "timestamp" not in raw:
        assert event.timestamp == NOW
    if isinstance(event, ConversionEvent):
        assert event.value == raw.get("value") and event.properties == raw.get("properties")


# Each fault: a field, a bad value for it, and the field the error must name.
FAULTS: list[tuple[str, object, str]] = [
    ("type", "click", "type"),
    ("unit_id", "", "unit_id"),
    ("unit_id", 42, "unit_id"),
    ("unit_id", "u" * 257, "unit_id"),
    ("event_id", "e" * 65, "event_id"),
    ("event_id", 7, "event_id"),
    ("event_id", "srv-0123", "event_id"),
    ("timestamp", "yesterday", "timestamp"),
    ("timestamp", True, "timestamp"),
    ("timestamp", int((NOW + timedelta(minutes=6)).timestamp() * 1000), "timestamp"),
    ("timestamp", (NOW - timedelta(days=91)).isoformat(), "timestamp"),
    ("colour", "blue", "colour"),
]
CONVERSION_FAULTS: list[tuple[str, object, str]] = [
    ("name", "Add To Cart", "name"),
    ("value", math.inf, "value"),
    ("value", "649", "value"),
    ("value", True, "value"),
    ("properties", {"nested": {"a": 1}}, "properties.nested"),
    ("properties", [1, 2], "properties"),
    ("properties", {"blob": "x" * MAX_PROPERTIES_BYTES}, "properties"),
    ("experiment", "checkout-onepage", "experiment"),
]
EXPOSURE_FAULTS: list[tuple[str, object, str]] = [
    ("experiment", "newsletter-subject", "experiment"),
    ("experiment", "old-test", "experiment"),
    ("experiment", "missing-test", "experiment"),
    ("variant", "purple", "variant"),
    ("experiment", "Not A Slug", "experiment"),
    ("value", 10.0, "value"),
]


@given(valid_events, st.sampled_from(FAULTS), st.data())
def test_each_fault_is_named(raw: dict[str, Any], fault: Any, data: st.DataObject) -> None:
    extra = CONVERSION_FAULTS if raw["type"] == "conversion" else EXPOSURE_FAULTS
    field, bad, named = data.draw(st.sampled_from([fault, *extra]))
    result = validate_event({**raw, field: bad}, WINDOW, CATALOG)
    assert isinstance(result, tuple), f"{field}={bad!r} was accepted"
    assert named in [error.field for error in result]


@given(valid_events, st.sampled_from(["unit_id", "type"]))
def test_missing_required_field_is_named(raw: dict[str, Any], field: str) -> None:
    del raw[field]
    result = validate_event(raw, WINDOW, CATALOG)
    assert isinstance(result, tuple)
    assert [(error.field, error.rule) for error in result][0] == (field, "is required")


@given(st.lists(st.one_of(valid_events, st.integers(), st.text(), st.none()), max_size=30))
def test_a_batch_keeps_every_good_event(raw_events: list[Any]) -> None:
    batch = validate_batch(raw_events, WINDOW, CATALOG)
    good = [i for i, raw in enumerate(raw_events) if isinstance(raw, dict)]
    assert len(batch.events) == len(good)
    assert [rejection.index for rejection in batch.rejected] == [
        i for i in range(len(raw_events)) if i not in good
    ]
    assert all(rejection.errors for rejection in batch.rejected)


def test_naive_iso_time_is_utc_and_epoch_millis_are_exact() -> None:
    naive = validate_event(
        {"type": "conversion", "unit_id": "u", "name": "refund", "timestamp": "2026-11-23T11:00"},
        WINDOW,
        CATALOG,
    )
    millis = validate_event(
        {"type": "conversion", "unit_id": "u", "name": "refund", "timestamp": 1795431600123},
        WINDOW,
        CATALOG,
    )
    assert isinstance(naive, ConversionEvent) and isinstance(millis, ConversionEvent)
    assert naive.timestamp == datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    assert millis.timestamp == datetime(2026, 11, 23, 11, 0, 0, 123000, tzinfo=UTC)


def _comparable(result: object) -> object:
    # Server-made ids are random: compare their shape, not their value.
    if isinstance(result, ExposureEvent | ConversionEvent) and result.event_id.startswith("srv-"):
        return (type(result), len(result.event_id), *astuple_without_id(result))
    return result


def astuple_without_id(event: ExposureEvent | ConversionEvent) -> tuple[object, ...]:
    fields = [name for name in event.__struct_fields__ if name != "event_id"]
    return tuple(getattr(event, name) for name in fields)


odd_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
field_names = st.sampled_from(
    ["type", "unit_id", "event_id", "timestamp", "experiment", "variant", "name", "value"]
    + ["properties", "colour"]
)


@given(
    st.lists(
        st.tuples(valid_events, st.lists(st.tuples(field_names, odd_values), max_size=2)),
        max_size=12,
    )
)
def test_batch_answers_exactly_as_event_by_event(cases: list[Any]) -> None:
    raw_events = [{**raw, **dict(changes)} for raw, changes in cases]
    batch = validate_batch(raw_events, WINDOW, CATALOG)
    one_by_one = [validate_event(raw, WINDOW, CATALOG) for raw in raw_events]
    expected_events = [_comparable(r) for r in one_by_one if not isinstance(r, tuple)]
    assert [_comparable(event) for event in batch.events] == expected_events
    expected_rejections = [(i, r) for i, r in enumerate(one_by_one) if isinstance(r, tuple)]
    assert [(r.index, r.errors) for r in batch.rejected] == expected_rejections


def test_epoch_millis_at_the_window_edges_are_judged_like_single_events() -> None:
    oldest_ms = int(WINDOW.oldest.timestamp() * 1000)
    newest_ms = int(WINDOW.newest.timestamp() * 1000)
    edges = [oldest_ms - 1, oldest_ms, oldest_ms + 1, newest_ms - 1, newest_ms, newest_ms + 1]
    raw_events = [
        {"type": "conversion", "unit_id": "u", "name": "refund", "timestamp": edge}
        for edge in edges
    ]
    batch = validate_batch(raw_events, WINDOW, CATALOG)
    accepted = [not isinstance(validate_event(raw, WINDOW, CATALOG), tuple) for raw in raw_events]
    assert accepted == [False, True, True, True, True, False]
    assert [rejection.index for rejection in batch.rejected] == [0, 5]


@given(st.integers(min_value=0, max_value=4_102_444_800_000))  # up to the year 2100
def test_millisecond_timestamps_convert_exactly(milliseconds: int) -> None:
    exact = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=milliseconds)
    assert datetime.fromtimestamp(milliseconds / 1000, UTC) == exact
