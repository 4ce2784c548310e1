"""Path and query parameters shared by several routers, bounded where they are defined."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query

from experiments.inputs import SLUG_PATTERN

# An experiment key in a path: a slug (anything else cannot name an experiment).
ExperimentKey = Annotated[str, Path(pattern=SLUG_PATTERN)]


def moment_query(meaning: str) -> Any:
    """The `Query` of a `Moment` parameter: its `meaning`, then the form every moment takes."""
    return Query(description=f"{meaning} (with a timezone; years 1900-9000).")
