"""The event wire format of docs/events.md as pydantic models: what the OpenAPI shows of an event
batch and a beacon.

They document; they do not judge. The intake parses a body itself so that one bad event rejects
only itself (`validation`, which also knows the rules these models cannot state: the experiment
catalogue, the time window, storable text, the size of `properties`, the bounds of
`attributes`). A test
(tests/experiments/events/test_wire.py) proves that on everything else both accept and refuse
the same events.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from experiments.events.fields import MAX_EVENT_ID_LENGTH, MAX_EVENT_VALUE, MAX_EVENTS_PER_BATCH
from experiments.inputs import MAX_UNIT_ID_LENGTH, Slug

UnitId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_UNIT_ID_LENGTH),
    Field(description="Not only whitespace; no NUL character, no lone surrogate"),
]
EventId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_EVENT_ID_LENGTH),
    Field(description="The client's idempotency key; must not start with 'srv-'"),
]
Timestamp = Annotated[str | float, Field(description="ISO 8601 text or epoch milliseconds")]
Attributes = Annotated[
    dict[str, str | float | bool],
    Field(
        description=(
            "The rules of /v1/assign's attributes: at most 100 names of 1-128 characters; "
            "strings of at most 1024 characters, finite numbers (integers within 64 bits) or "
            "booleans; no NUL, no lone surrogate. Only those the experiment names as "
            "dimensions are stored, the others are dropped"
        )
    ),
]


class _EventDoc(BaseModel):
    """The fields every event has."""

    # Strict: JSON text is not read as a number, nor a number as text (the validator's rule).
    model_config = ConfigDict(extra="forbid", strict=True)
    unit_id: UnitId
    event_id: EventId | None = None
    timestamp: Timestamp | None = None


class ExposureDoc(_EventDoc):
    """A unit saw a variant of a running or stopped experiment."""

    model_config = ConfigDict(title="Exposure")
    type: Literal["exposure"]
    experiment: Slug
    variant: Slug
    attributes: Attributes | None = None


class ConversionDoc(_EventDoc):
    """A unit did something (`name`), maybe worth a `value`."""

    model_config = ConfigDict(title="Conversion")
    type: Literal["conversion"]
    name: Slug
    value: Annotated[float, Field(ge=-MAX_EVENT_VALUE, le=MAX_EVENT_VALUE)] | None = None
    properties: dict[str, str | float | bool | None] | None = None


EventList = list[Annotated[ExposureDoc | ConversionDoc, Field(discriminator="type")]]


class EventBatchDoc(BaseModel):
    model_config = ConfigDict(extra="forbid", title="EventBatch")
    events: EventList = Field(max_length=MAX_EVENTS_PER_BATCH)


class BeaconDoc(BaseModel):
    model_config = ConfigDict(extra="forbid", title="EventBeacon")
    sdk_key: str = Field(min_length=1, description="An sdk-scoped key (never an admin key)")
    events: EventList = Field(max_length=MAX_EVENTS_PER_BATCH)
