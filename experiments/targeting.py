"""Checks targeting conditions at definition time, with the assignment engine's own rules."""

from __future__ import annotations

from typing import Any


def validate_targeting(_condition: dict[str, Any]) -> None:
    """Raise InvalidInputError naming the bad part of `condition` (path under `targeting`)."""
    return None
