"""How a look's sums were taken (incremental or full, and why), and what the next look starts
from: the look's ingestion mark, the fingerprint of what its sums are sums of, its end, and the
end of the latest full look (the guard). Stored with each look (`ResultSnapshot.sums`)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import orjson

from experiments.models.metric import MetricDefinition
from experiments.results.sums.groups import Aggregates
from experiments.results.sums.ingestion_marks import IngestionMark
from experiments.results.sums.levels import MAX_LEVELS, NONE_LEVEL, OTHER_LEVEL

FULL_LOOK_EVERY = timedelta(hours=24)
"""The guard's default: a look is a full one when the latest full look ended this long before
(`VEKST_FULL_LOOK_INTERVAL_HOURS`)."""
SUMS_VERSION = 1
"""Part of the fingerprint: a release that changes what the sums are makes the next look full."""


class LookKind(StrEnum):
    INCREMENTAL = "incremental"
    """From the previous look's sums and the units whose events were stored since."""
    FULL = "full"
    """From every event of the experiment."""


class FullReason(StrEnum):
    """Why a look was a full one."""

    FIRST_LOOK = "first_look"
    STOPPED = "stopped"
    PASTED_COUNTS = "pasted_counts"
    BANDIT_PERIODS = "bandit_periods"
    """A bandit after its first update: its sums per update period are taken from every event."""
    NO_PREVIOUS_MARK = "no_previous_mark"
    """The previous look stored no ingestion mark (stored before marks, or from pasted counts)."""
    NO_MARK = "no_mark"
    """PostgreSQL's inserts in flight did not end in time to take this look's mark."""
    DEFINITIONS_CHANGED = "definitions_changed"
    """Metrics, variants, dimensions or percentile caps differ from the previous look's."""
    PERCENTILE_CAPS = "percentile_caps"
    """A percentile cap's value moved since the previous look: a unit without new events may
    be capped differently, so every unit is capped afresh."""
    CAPPED_LEVELS = "capped_levels"
    """A dimension has more levels than the look keeps: the merged ones cannot be updated."""
    EVENTS_DELETED = "events_deleted"
    """The rows at the previous mark are gone: events were deleted (retention)."""
    END_MOVED_BACK = "end_moved_back"
    GUARD = "guard"
    """The latest full look is older than the guard's interval."""


@dataclass(frozen=True, slots=True)
class HowTaken:
    """A look's kind, why it was a full one, and for an incremental look how many exposed
    units it read again (`units_read`)."""

    kind: LookKind
    reason: FullReason | None = None
    units_read: int | None = None

    @classmethod
    def full(cls, reason: FullReason) -> HowTaken:
        return cls(LookKind.FULL, reason)

    def as_json(self) -> dict[str, Any]:
        found = {"kind": self.kind.value, "reason": None if self.reason is None else self.reason}
        return found if self.units_read is None else found | {"units_read": self.units_read}


@dataclass(frozen=True, slots=True)
class LookBasis:
    """What the next look starts from (stored under `basis`)."""

    mark: IngestionMark
    fingerprint: str
    end: datetime
    full_at: datetime
    """The end of the latest full look."""

    def as_json(self) -> dict[str, Any]:
        return {
            "mark": self.mark.as_json(),
            "fingerprint": self.fingerprint,
            "end": self.end.isoformat(),
            "full_at": self.full_at.isoformat(),
        }

    @classmethod
    def stored(cls, sums: Mapping[str, Any]) -> LookBasis | None:
        """The basis a look stored with its sums (None: a look without one)."""
        found = sums.get("basis")
        if found is None:
            return None
        return cls(
            IngestionMark.from_json(found["mark"]),
            found["fingerprint"],
            datetime.fromisoformat(found["end"]),
            datetime.fromisoformat(found["full_at"]),
        )


def fingerprint(
    variants: Sequence[str],
    metrics: Sequence[MetricDefinition],
    dimensions: Sequence[str],
    cap_percentiles: Mapping[str, float],
) -> str:
    """A digest of everything a look's sums depend on besides the events."""
    described = {
        "version": SUMS_VERSION,
        "variants": list(variants),
        "dimensions": list(dimensions),
        "metrics": [metric.model_dump(mode="json") for metric in metrics],
        "cap_percentiles": dict(sorted(cap_percentiles.items())),
    }
    return hashlib.sha256(orjson.dumps(described, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class LookRequest:
    """The facts that decide whether a look can start from the previous one."""

    running: bool
    pasted: bool
    periods: bool
    fingerprint: str
    caps_moved: bool
    end: datetime
    full_look_every: timedelta


def full_reason(
    request: LookRequest, basis: LookBasis | None, previous: Aggregates
) -> FullReason | None:
    """Why this look must be a full one, or None: it may start from the previous look's sums
    (the ingestion mark's rows are checked apart, `ingestion_marks.unchanged`)."""
    if not request.running:
        return FullReason.STOPPED
    if request.pasted:
        return FullReason.PASTED_COUNTS
    if request.periods:
        return FullReason.BANDIT_PERIODS
    if basis is None:
        return FullReason.NO_PREVIOUS_MARK
    checks = (
        (basis.fingerprint != request.fingerprint, FullReason.DEFINITIONS_CHANGED),
        (request.caps_moved, FullReason.PERCENTILE_CAPS),
        (levels_capped(previous), FullReason.CAPPED_LEVELS),
        (request.end < basis.end, FullReason.END_MOVED_BACK),
        (request.end - basis.full_at >= request.full_look_every, FullReason.GUARD),
    )
    return next((reason for failed, reason in checks if failed), None)


def levels_capped(aggregates: Aggregates) -> bool:
    """Whether a dimension of the look may have merged levels into `other` (more than
    `MAX_LEVELS`): their own sums are then not stored, so they cannot be updated."""
    for dimension in aggregates.dimensions:
        levels = aggregates.levels(dimension)
        named = [name for name in levels if name not in (NONE_LEVEL, OTHER_LEVEL)]
        if OTHER_LEVEL in levels and len(named) >= MAX_LEVELS - 1:
            return True
    return False
