"""Stored events: exposures (unit saw variant) and conversions (unit did something, maybe worth
a value). Every stored event has an `event_id`, unique per table: the client's idempotency key,
or one the server made when the client sent none, and its `source`: the scope of the key that
sent it (`sdk`, `server` or `admin`). An exposure may carry `attributes`: the unit's values of
the experiment's dimensions when it was exposed (NULL: none, or stored before they were)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer
from sqlmodel import Field, SQLModel

from experiments.db import UTCDateTime
from experiments.inputs import MAX_UNIT_ID_LENGTH

EVENT_ID_MAX = 80  # client ids are at most 64 characters; server-made ids are prefixed
_ID_TYPE = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER only
# The scope of the key that sent the event (`experiments.models.api_key.EventSource`); rows
# stored before it was recorded are sdk events (migration 0009).
_SOURCE_DEFAULT = {"server_default": "sdk"}


class Exposure(SQLModel, table=True):
    __tablename__ = "exposures"
    # Covering index of the results query (migration 0004).
    __table_args__ = (
        Index("ix_exposures_results", "experiment", "unit_id", "timestamp", "variant"),
    )

    id: int | None = Field(default=None, sa_type=_ID_TYPE, primary_key=True)
    event_id: str = Field(max_length=EVENT_ID_MAX, unique=True)
    experiment: str = Field(max_length=64)
    variant: str = Field(max_length=64)
    unit_id: str = Field(max_length=MAX_UNIT_ID_LENGTH)
    timestamp: datetime = Field(sa_type=UTCDateTime)
    received_at: datetime = Field(sa_type=UTCDateTime)
    source: str = Field(default="sdk", max_length=8, sa_column_kwargs=_SOURCE_DEFAULT)
    attributes: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class Conversion(SQLModel, table=True):
    __tablename__ = "conversions"
    # Covering index of the results query (migrations 0004, 0009; the id, which a look's
    # ceiling compares, included on PostgreSQL: 0027); the only secondary index besides the
    # unique event_id: each one costs every stored conversion (migration 0026).
    __table_args__ = (
        Index(
            "ix_conversions_results",
            *("unit_id", "name", "timestamp", "value", "source"),
            postgresql_include=["id"],
        ),
    )

    id: int | None = Field(default=None, sa_type=_ID_TYPE, primary_key=True)
    event_id: str = Field(max_length=EVENT_ID_MAX, unique=True)
    name: str = Field(max_length=64)
    unit_id: str = Field(max_length=MAX_UNIT_ID_LENGTH)
    value: float | None = None
    properties: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    timestamp: datetime = Field(sa_type=UTCDateTime)
    received_at: datetime = Field(sa_type=UTCDateTime)
    source: str = Field(default="sdk", max_length=8, sa_column_kwargs=_SOURCE_DEFAULT)
