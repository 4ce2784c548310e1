"""The audit log: one append-only row per change to an experiment, a metric, a key, a webhook,
a holdout, or per reading of counts pasted to an experiment (`counts`, keyed by the experiment's
key).

`changes` maps a field path (`name`, `design.alpha`, `metrics.secondary`) to
`{"before": ..., "after": ...}`; a created entity has `before` null for every field. Who made
the change: a person on the pages has `user_id` set and their e-mail as `key_name`; an API key
is stored by id and name only, never by secret or hash.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from experiments.db import UTCDateTime


class AuditEntity(StrEnum):
    EXPERIMENT = "experiment"
    METRIC = "metric"
    KEY = "key"
    WEBHOOK = "webhook"
    COUNTS = "counts"
    USER = "user"
    HOLDOUT = "holdout"


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_key", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    entity: str = Field(max_length=16)
    entity_key: str = Field(max_length=64)
    action: str = Field(max_length=16)
    key_id: int | None = None
    key_name: str = Field(default="", max_length=200)
    user_id: int | None = None
    changes: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class FieldChange(SQLModel):
    before: Any
    after: Any


class AuditEntryPublic(SQLModel):
    id: int
    at: datetime
    entity: AuditEntity
    entity_key: str
    action: str
    key_id: int | None
    key_name: str
    user_id: int | None = None
    changes: dict[str, FieldChange]


class AuditPage(SQLModel):
    """One page of the log, oldest first; pass `next_after` as `after` for the next page."""

    items: list[AuditEntryPublic]
    next_after: int | None
