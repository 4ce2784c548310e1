"""API keys: stored only as SHA-256 hashes of high-entropy random secrets."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from experiments.db import UTCDateTime


class KeyScope(StrEnum):
    ADMIN = "admin"  # manage experiments and metrics, read results
    SDK = "sdk"  # read SDK config, assign, send events


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    prefix: str = Field(max_length=16, index=True)
    key_hash: str = Field(max_length=64, unique=True)
    scope: str = Field(max_length=16)
    name: str = Field(default="", max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
