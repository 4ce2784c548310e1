"""Stored looks (results snapshots) and the database leases that keep scheduled work single."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from experiments.db import UTCDateTime


class ResultSnapshot(SQLModel, table=True):
    """One look: the page served for it (running readings included) and its per-variant sums.

    `results` is the JSON of the results page at this look; `sums` holds the per-group sums
    (`results.stored_sums`), `multi_variant_units`, the percentile `caps` and the alert `facts`
    (migration 0007_snapshots).
    """

    __tablename__ = "result_snapshots"
    __table_args__ = (UniqueConstraint("experiment", "look", name="uq_result_snapshots_look"),)

    id: int | None = Field(default=None, primary_key=True)
    experiment: str = Field(max_length=64)
    look: int
    computed_at: datetime = Field(sa_type=UTCDateTime)
    as_of: datetime = Field(sa_type=UTCDateTime)
    verdict: str = Field(max_length=16)
    results: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    sums: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class Lease(SQLModel, table=True):
    """A named lease: whoever moved `expires_at` forward last holds it until then."""

    __tablename__ = "leases"

    name: str = Field(max_length=64, primary_key=True)
    holder: str = Field(max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime)
