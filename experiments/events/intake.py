"""From a raw request body to a receipt: parse, validate each event, hand the valid ones on.

The usual body, every event of it valid, is decoded and typed whole (`decoding`); any other is
parsed and judged event by event. A body that is not JSON, or not an object with an `events`
array, is refused whole; anything wrong inside one event rejects that event only (see
`validation`), including a value the fast parser cannot decode (an escaped lone surrogate, a
number beyond a double's range): the body is then read again by the standard parser, which keeps
such values for validation to refuse.

An exposure rejected by the experiment catalogue (unknown experiment, not running, unknown
variant) is judged again against a catalogue read after the batch arrived, so an exposure sent
a moment after an experiment started is never lost to a cache that is a second old.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn

import orjson
from anyio import to_thread

from experiments.errors import InvalidInputError, VekstError
from experiments.events.catalog import CachedCatalog, ExperimentSnapshot
from experiments.events.decoding import WireEvent, decode_batch, typed_events
from experiments.events.fields import MAX_EVENTS_PER_BATCH
from experiments.events.sinks import EventSink
from experiments.events.types import FieldError
from experiments.events.validation import (
    CATALOG_FIELDS,
    Rejection,
    TimeWindow,
    ValidatedBatch,
    validate_batch,
)
from experiments.inputs import printable
from experiments.models.api_key import EventSource


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


def parse_document(body: bytes) -> Any:
    """A request body as JSON; raises `MalformedBodyError` only when it is not JSON at all."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        return _lenient_loads(body, error)


def parse_batch(body: bytes) -> list[object]:
    """The `events` array of a request body; raises on a body that cannot be a batch at all."""
    return batch_events(parse_document(body))


def batch_events(document: Any) -> list[object]:
    """The `events` array of a parsed body; raises on a document that cannot be a batch."""
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


def _lenient_loads(body: bytes, first_error: orjson.JSONDecodeError) -> Any:
    """Parse what orjson refuses although it is JSON: lone-surrogate escapes, numbers beyond a
    double (kept as huge integers or infinities, for validation to refuse per event)."""
    try:
        return json.loads(body, parse_constant=_not_json)
    except (ValueError, RecursionError):
        raise MalformedBodyError(f"the body is not valid JSON: {first_error}") from None


def _not_json(constant: str) -> NoReturn:
    raise ValueError(f"{constant} is not JSON")


def _catalog_rejections(batch: ValidatedBatch) -> list[Rejection]:
    return [
        rejection
        for rejection in batch.rejected
        if any(error.field in CATALOG_FIELDS for error in rejection.errors)
    ]


def _refusal(index: int, reason: str) -> Rejection:
    return Rejection(index, (FieldError("event", f"cannot be stored: {printable(reason)}"),))


class EventIntake:
    """Takes request bodies in; valid events go to `sink`, invalid ones come back as reasons."""

    def __init__(self, catalog: CachedCatalog, sink: EventSink, max_age_days: int) -> None:
        self._catalog = catalog
        self._sink = sink
        self._max_age_days = max_age_days

    def forget_catalog(self) -> None:
        """Read the experiments again for the next batch (one changed in another process)."""
        self._catalog.invalidate()

    async def ingest(
        self, body: bytes, received_at: datetime | None = None, *, source: EventSource
    ) -> IngestResult:
        """Validate and hand on one batch sent with a key of scope `source` (stored with each
        event); returns once the accepted events are safe. The usual batch is decoded whole
        (`decoding`); any other is parsed and judged event by event."""
        wire_events = decode_batch(body)
        if wire_events is not None:
            result = await self.ingest_decoded(wire_events, received_at, source=source)
            if result is not None:
                return result
        return await self.ingest_events(parse_batch(body), received_at, source=source)

    async def ingest_events(
        self, raw_events: list[object], received_at: datetime | None = None, *, source: EventSource
    ) -> IngestResult:
        """`ingest` for a batch's events already taken out of their body (`batch_events`)."""
        moment = received_at or datetime.now(UTC)
        arrived = self._catalog.now()
        window = TimeWindow.at(moment, self._max_age_days)
        batch = validate_batch(raw_events, window, await self._snapshot(), source)
        suspects = _catalog_rejections(batch)
        if suspects and self._catalog.loaded_at < arrived:
            batch = await self._judge_again(raw_events, batch, suspects, window, source)
        return await self._submit(batch, moment)

    async def ingest_decoded(
        self,
        wire_events: list[WireEvent],
        received_at: datetime | None = None,
        *,
        source: EventSource,
    ) -> IngestResult | None:
        """`ingest_events` for a batch `decoding.decode_batch` took in, when every event of it
        is valid; None (nothing stored) when one is not: then judge the body by `ingest`."""
        moment = received_at or datetime.now(UTC)
        window = TimeWindow.at(moment, self._max_age_days)
        events = typed_events(wire_events, window, await self._snapshot(), source)
        if events is None:
            return None
        return await self._submit(ValidatedBatch(events, []), moment)

    async def _snapshot(self) -> ExperimentSnapshot:
        snapshot = self._catalog.fresh()
        if snapshot is None:
            snapshot = await to_thread.run_sync(self._catalog.refresh)
        return snapshot

    async def _submit(self, batch: ValidatedBatch, moment: datetime) -> IngestResult:
        """Hand the valid events of `batch` on; the answer for the whole batch."""
        if not batch.events:
            return IngestResult(0, 0, batch.rejected)
        receipt = await self._sink.submit(batch.events, moment)
        rejected = batch.rejected
        if receipt.refused:
            # Defence in depth: the database refused what validation let through.
            positions = batch.positions()
            rejected = sorted(
                [*rejected, *(_refusal(positions[i], reason) for i, reason in receipt.refused)],
                key=lambda rejection: rejection.index,
            )
        return IngestResult(receipt.accepted, receipt.duplicates, rejected)

    async def _judge_again(
        self,
        raw_events: list[object],
        batch: ValidatedBatch,
        suspects: list[Rejection],
        window: TimeWindow,
        source: EventSource,
    ) -> ValidatedBatch:
        """Validate the catalogue's rejections again against a catalogue read now."""
        snapshot = await to_thread.run_sync(self._catalog.refresh)
        again = validate_batch([raw_events[r.index] for r in suspects], window, snapshot, source)
        if not again.events:
            return batch
        still = {suspects[r.index].index: r.errors for r in again.rejected}
        suspect_indexes = {r.index for r in suspects}
        rejected = [r for r in batch.rejected if r.index not in suspect_indexes]
        rejected += [Rejection(index, errors) for index, errors in still.items()]
        rejected.sort(key=lambda rejection: rejection.index)
        indexes = batch.positions() + [suspects[i].index for i in again.positions()]
        return ValidatedBatch(batch.events + again.events, rejected, indexes)
