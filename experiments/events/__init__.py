"""Event ingestion: validation, bulk storage, the Redis Stream buffer and its worker, summary.

The route calls `EventPipeline.intake`; `vekst worker` runs a `StreamWorker`. See docs/events.md.
"""

from experiments.events.decoding import WireConversion, WireEvent, WireExposure, decode_batch
from experiments.events.fields import MAX_EVENTS_PER_BATCH
from experiments.events.intake import (
    BatchTooLargeError,
    EventIntake,
    IngestResult,
    MalformedBodyError,
    batch_events,
    parse_batch,
    parse_document,
)
from experiments.events.pipeline import EventPipeline, build_event_pipeline
from experiments.events.sinks import DirectSink, EventSink, Receipt, RedisStreamSink
from experiments.events.store import StoreOutcome, store_events
from experiments.events.streams import StreamKeys
from experiments.events.summary import EventCounts, count_events, stream_backlog
from experiments.events.types import ConversionEvent, Event, ExposureEvent, FieldError
from experiments.events.validation import Rejection, TimeWindow, validate_batch, validate_event
from experiments.events.worker import StreamWorker, WorkerOptions

__all__ = [
    "MAX_EVENTS_PER_BATCH",
    "BatchTooLargeError",
    "ConversionEvent",
    "DirectSink",
    "Event",
    "EventCounts",
    "EventIntake",
    "EventPipeline",
    "EventSink",
    "ExposureEvent",
    "FieldError",
    "IngestResult",
    "MalformedBodyError",
    "Receipt",
    "RedisStreamSink",
    "Rejection",
    "StoreOutcome",
    "StreamKeys",
    "StreamWorker",
    "TimeWindow",
    "WireConversion",
    "WireEvent",
    "WireExposure",
    "WorkerOptions",
    "build_event_pipeline",
    "count_events",
    "decode_batch",
    "batch_events",
    "parse_batch",
    "parse_document",
    "store_events",
    "stream_backlog",
    "validate_batch",
    "validate_event",
]
