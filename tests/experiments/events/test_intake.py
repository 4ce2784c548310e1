"""The intake maps what the sink refused back to the event's index in the request."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import orjson

from experiments.events.intake import EventIntake
from experiments.events.sinks import Receipt
from experiments.events.types import Event


class _RefusingSink:
    """Refuses the second event it is given, as a database would refuse a poison event."""

    def __init__(self) -> None:
        self.submitted: list[Event] = []

    async def submit(self, events: Sequence[Event], received_at: datetime) -> Receipt:
        self.submitted = list(events)
        return Receipt(len(events) - 1, 0, "sql", ((1, "DataError: refused"),))


class _EmptyCatalog:
    def fresh(self) -> object:
        return self

    def now(self) -> float:
        return 0.0

    loaded_at = 0.0

    def get(self, key: str) -> None:
        return None


def test_a_refused_event_is_rejected_with_its_index_in_the_request() -> None:
    conversion = {"type": "conversion", "unit_id": "u", "name": "purchase"}
    body = orjson.dumps({"events": [{"type": "nonsense"}, conversion, {**conversion}]})
    sink = _RefusingSink()
    intake = EventIntake(_EmptyCatalog(), sink, max_age_days=90)  # type: ignore[arg-type]
    result = asyncio.run(intake.ingest(body, datetime.now(UTC), source="sdk"))
    assert len(sink.submitted) == 2
    assert result.accepted == 1
    assert [r.as_dict() for r in result.rejected] == [
        {
            "index": 0,
            "errors": [{"field": "type", "rule": "must be one of 'exposure', 'conversion'"}],
        },
        {
            "index": 2,
            "errors": [{"field": "event", "rule": "cannot be stored: DataError: refused"}],
        },
    ]
