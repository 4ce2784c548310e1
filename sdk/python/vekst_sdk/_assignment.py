"""The result of an assignment: an immutable value that holds no unit id."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class AssignmentReason(StrEnum):
    """Why a unit got its variant (also decides whether an exposure is logged)."""

    SPLIT = "split"
    """Running experiment, hashed into a variant: ``in_experiment`` true, exposure logged."""
    STICKY = "sticky"
    """Running sticky experiment whose sticky store kept this unit's variant (for the current
    ``sticky_version``): that variant, ``in_experiment`` true, exposure logged as for a split."""
    HOLDOUT = "holdout"
    """The unit is in a holdout that covers the experiment: control, no exposure for it."""
    OVERRIDE = "override"
    """Forced by a QA override: not in the experiment, no exposure."""
    NOT_TARGETED = "not_targeted"
    """The attributes do not match the targeting condition: control, no exposure."""
    NOT_IN_TRAFFIC = "not_in_traffic"
    """Outside the experiment's traffic share or layer ranges: control, no exposure."""
    WINNER = "winner"
    """Stopped with a winner: the winner for everyone, no exposure."""
    STOPPED = "stopped"
    """Stopped without a winner: control for everyone, no exposure."""
    INVALID_INPUT = "invalid_input"
    """Bad unit id or attributes (a warning is logged): control, no exposure."""
    UNKNOWN_EXPERIMENT = "unknown_experiment"
    """The key is not in the config: ``variant`` is ``None``."""
    NOT_READY = "not_ready"
    """No config has been loaded yet: ``variant`` is ``None``."""
    ERROR = "error"
    """An internal failure (logged): control, or ``None`` when the control is unknown."""


@dataclass(frozen=True, slots=True)
class Assignment:
    """Which variant a unit sees in one experiment.

    ``variant`` is the variant key (``None`` when the experiment is unknown); ``payload`` is the
    variant's payload, deeply read-only (objects are ``MappingProxyType``, lists are tuples);
    ``in_experiment`` is true only for units randomised into a running experiment, the only
    ones whose exposures are logged and analysed.
    """

    experiment: str
    variant: str | None
    payload: Any
    in_experiment: bool
    reason: AssignmentReason


def freeze_payload(payload: Any) -> Any:
    """Return a deeply read-only copy of a JSON value, so shared results cannot be mutated."""
    if isinstance(payload, Mapping):
        return MappingProxyType({str(k): freeze_payload(v) for k, v in payload.items()})
    if isinstance(payload, list | tuple):
        return tuple(freeze_payload(item) for item in payload)
    return payload


def thaw_payload(payload: Any) -> Any:
    """Return a plain, mutable (JSON-serialisable) copy of a frozen payload."""
    if isinstance(payload, Mapping):
        return {k: thaw_payload(v) for k, v in payload.items()}
    if isinstance(payload, tuple):
        return [thaw_payload(item) for item in payload]
    return payload
