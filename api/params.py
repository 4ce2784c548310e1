"""Path and query parameters shared by several routers, bounded where they are defined."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from experiments.inputs import SLUG_PATTERN

# An experiment key in a path: a slug (anything else cannot name an experiment).
ExperimentKey = Annotated[str, Path(pattern=SLUG_PATTERN)]
