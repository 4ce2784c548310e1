"""Counts each batch's events into `vekst_events_total` by outcome and type."""

from __future__ import annotations

from collections import Counter

from api.observability.metrics import Telemetry
from experiments.events import IngestResult

EVENT_TYPES = frozenset({"exposure", "conversion"})


def _type_of(event: object) -> str:
    kind = event.get("type") if isinstance(event, dict) else None
    return kind if isinstance(kind, str) and kind in EVENT_TYPES else "invalid"


def count_events(telemetry: Telemetry, raw_events: list[object], result: IngestResult) -> None:
    """Accepted and repeated events carry their batch's type ('mixed' for a batch of both);
    each rejected event its own ('invalid' when it has no known type)."""
    rejected = {rejection.index for rejection in result.rejected}
    if result.accepted or result.duplicates:
        kinds = {_type_of(event) for i, event in enumerate(raw_events) if i not in rejected}
        kind = kinds.pop() if len(kinds) == 1 else "mixed"
        if result.accepted:
            telemetry.events.labels("accepted", kind).inc(result.accepted)
        if result.duplicates:
            telemetry.events.labels("duplicate", kind).inc(result.duplicates)
    for kind, count in Counter(_type_of(raw_events[index]) for index in rejected).items():
        telemetry.events.labels("rejected", kind).inc(count)
