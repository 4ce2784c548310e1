"""Counts each batch's events into `vekst_events_total` by outcome and type."""

from __future__ import annotations

from collections import Counter

from api.observability.metrics import Telemetry
from experiments.events import IngestResult, WireConversion, WireEvent, WireExposure

EVENT_TYPES = frozenset({"exposure", "conversion"})
_WIRE_TYPES: dict[type[WireEvent], str] = {WireExposure: "exposure", WireConversion: "conversion"}


def _type_of(event: object) -> str:
    kind = event.get("type") if isinstance(event, dict) else None
    return kind if isinstance(kind, str) and kind in EVENT_TYPES else "invalid"


def count_events(telemetry: Telemetry, raw_events: list[object], result: IngestResult) -> None:
    """Accepted and repeated events carry their batch's type ('mixed' for a batch of both);
    each rejected event its own ('invalid' when it has no known type)."""
    rejected = {rejection.index for rejection in result.rejected}
    kinds = {_type_of(event) for i, event in enumerate(raw_events) if i not in rejected}
    _count(telemetry, kinds, result)
    for kind, count in Counter(_type_of(raw_events[index]) for index in rejected).items():
        telemetry.events.labels("rejected", kind).inc(count)


def count_decoded(telemetry: Telemetry, wire_events: list[WireEvent], result: IngestResult) -> None:
    """`count_events` for a batch decoded whole (`experiments.events.decoding`): its events
    are valid, so only the database can have refused some."""
    refused = {rejection.index for rejection in result.rejected}
    kept = {type(event) for i, event in enumerate(wire_events) if i not in refused}
    _count(telemetry, {_WIRE_TYPES[kind] for kind in kept}, result)
    for kind, count in Counter(_WIRE_TYPES[type(wire_events[i])] for i in refused).items():
        telemetry.events.labels("rejected", kind).inc(count)


def _count(telemetry: Telemetry, kinds: set[str], result: IngestResult) -> None:
    if result.accepted or result.duplicates:
        kind = kinds.pop() if len(kinds) == 1 else "mixed"
        if result.accepted:
            telemetry.events.labels("accepted", kind).inc(result.accepted)
        if result.duplicates:
            telemetry.events.labels("duplicate", kind).inc(result.duplicates)
