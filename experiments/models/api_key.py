"""API keys: stored only as SHA-256 hashes of high-entropy random secrets."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from sqlmodel import Field, SQLModel

from experiments.db import UTCDateTime


class KeyScope(StrEnum):
    """What a key may do; the same roles as the pages' users, plus the SDK's keys.

    `viewer` < `editor` < `admin` for the management API: reads, then writes (experiments,
    metrics, counts, looks), then keys, webhooks and users. `sdk` and `server` serve visitors
    (an admin key may too)."""

    VIEWER = "viewer"  # read experiments, results, metrics, the audit log
    EDITOR = "editor"  # also create, edit, start, stop experiments and metrics; paste counts
    ADMIN = "admin"  # also webhooks, keys and users; and what sdk may do
    SDK = "sdk"  # public, in every browser: read SDK config, assign, send events
    SERVER = "server"  # secret, kept by the shop's backend: what sdk may do, never a beacon


EventSource = Literal["sdk", "server", "admin"]
"""Which kind of key sent a stored event: the scope of that key. Browsers hold the public sdk
key, so only `server` (and `admin`) events are beyond a visitor's reach to forge."""

EVENT_SOURCES: dict[KeyScope, EventSource] = {
    KeyScope.SDK: "sdk",
    KeyScope.SERVER: "server",
    KeyScope.ADMIN: "admin",
}


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    prefix: str = Field(max_length=16, index=True)
    key_hash: str = Field(max_length=64, unique=True)
    scope: str = Field(max_length=16)
    name: str = Field(default="", max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
