"""From a raw request body to a receipt: parse, validate each event, hand the valid ones on.

A body that is not JSON, or not an object with an `events` array, is refused whole; anything
wrong inside one event rejects that event only (see `validation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from anyio import to_thread

from experiments.errors import InvalidInputError, VekstError
from experiments.events.catalog import CachedCatalog
from experiments.events.sinks import EventSink
from experiments.events.validation import Rejection, TimeWindow, validate_batch

MAX_EVENTS_PER_BATCH = 10_000


class MalformedBodyError(VekstError):
    """The request body is not valid JSON."""


class BatchTooLargeError(VekstError):
    """The batch holds more events than one request may carry."""

    def __init__(self, count: int) -> None:
        super().__init__(
            f"a batch may hold at most {MAX_EVENTS_PER_BATCH} events; this one holds {count}: "
            "split it into several requests"
        )
        self.count = count


@dataclass(frozen=True, slots=True)
class IngestResult:
    """The answer to one batch: accepted + duplicates + len(rejected) = events sent."""

    accepted: int
    duplicates: int
    rejected: list[Rejection]

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [rejection.as_dict() for rejection in self.rejected],
        }


def parse_batch(body: bytes) -> list[object]:
    """The `events` array of a request body; raises on a body that cannot be a batch at all."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise MalformedBodyError(f"the body is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise InvalidInputError("body", "must be a JSON object with an 'events' array")
    for name in document:
        if name != "events":
            raise InvalidInputError(str(name), "is not a known field (send only 'events')")
    events = document.get("events")
    if events is None:
        raise InvalidInputError("events", "is required")
    if not isinstance(events, list):
        raise InvalidInputError("events", "must be an array of event objects")
    if len(events) > MAX_EVENTS_PER_BATCH:
        raise BatchTooLargeError(len(events))
    return events


class EventIntake:
    """Takes request bodies in; valid events go to `sink`, invalid ones come back as reasons."""

    def __init__(self, catalog: CachedCatalog, sink: EventSink, max_age_days: int) -> None:
        self._catalog = catalog
        self._sink = sink
        self._max_age_days = max_age_days

    async def ingest(self, body: bytes, received_at: datetime | None = None) -> IngestResult:
        """Validate and hand on one batch; returns once the accepted events are safe."""
        raw_events = parse_batch(body)
        moment = received_at or datetime.now(UTC)
        snapshot = self._catalog.fresh()
        if snapshot is None:
            snapshot = await to_thread.run_sync(self._catalog.refresh)
        batch = validate_batch(raw_events, TimeWindow.at(moment, self._max_age_days), snapshot)
        if not batch.events:
            return IngestResult(0, 0, batch.rejected)
        receipt = await self._sink.submit(batch.events, moment)
        return IngestResult(receipt.accepted, receipt.duplicates, batch.rejected)
