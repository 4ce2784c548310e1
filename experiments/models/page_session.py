"""Server-side records of the results pages' sessions, and secrets the processes share.

A page session's cookie holds only a random id; the row keeps a hash of that id (so a copy of
the database cannot be turned into a cookie), whose key logged in, and when the session ends.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from experiments.db import UTCDateTime


class PageSessionRecord(SQLModel, table=True):
    """One login to the pages (migration 0010_page_sessions).

    `id_hash` is the SHA-256 of the cookie's random id. `key_id` is the stored admin key that
    logged in, None for `VEKST_ADMIN_KEY`; `key_digest` is an HMAC (with the session secret) of
    that key's hash, so a session ends when the configured key changes. A session is active
    until `expires_at`, or until `ended_at` once it is set (logout, the key revoked).
    """

    __tablename__ = "page_sessions"
    __table_args__ = (
        Index("ix_page_sessions_expires_at", "expires_at"),
        Index("ix_page_sessions_key_id", "key_id"),
    )

    id_hash: str = Field(max_length=64, primary_key=True)
    key_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=True),
    )
    key_digest: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ServerSecret(SQLModel, table=True):
    """A random secret made once and read by every process and host (the pages' session
    secret when `VEKST_SESSION_SECRET` is unset)."""

    __tablename__ = "server_secrets"

    name: str = Field(max_length=64, primary_key=True)
    value: str = Field(max_length=128, repr=False)
    created_at: datetime = Field(sa_type=UTCDateTime)
