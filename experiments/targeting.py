"""Checks targeting conditions at definition time with the assignment engine's own grammar.

The SDK owns the condition language (docs/assignment.md); the server imports its validator so
that a condition the SDK would refuse can never be stored.
"""

from __future__ import annotations

from typing import Any

from experiments.errors import InvalidInputError
from vekst_sdk.spec import TargetingError
from vekst_sdk.spec import validate_targeting as sdk_validate_targeting


def validate_targeting(condition: dict[str, Any]) -> None:
    """Raise InvalidInputError naming the bad part of `condition` (path under `targeting`)."""
    try:
        sdk_validate_targeting(condition, "targeting")
    except TargetingError as exc:
        raise InvalidInputError(exc.path, exc.message) from exc
