"""Server-side records of the results pages' sessions, and secrets the processes share.

A page session's cookie holds only a random id; the row keeps a hash of that id (so a copy of
the database cannot be turned into a cookie), which user logged in, and when the session ends.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from experiments.db import UTCDateTime


class PageSessionRecord(SQLModel, table=True):
    """One login to the pages (migrations 0010_page_sessions, 0014_accounts).

    `id_hash` is the SHA-256 of the cookie's random id; `user_id` the user who logged in. A
    session is active until `expires_at`, or until `ended_at` once it is set (logout, a new
    login in the same browser, the user's role changed, the user disabled or their password
    reset).
    """

    __tablename__ = "page_sessions"
    __table_args__ = (
        Index("ix_page_sessions_expires_at", "expires_at"),
        Index("ix_page_sessions_user_id", "user_id"),
    )

    id_hash: str = Field(max_length=64, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    )
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
