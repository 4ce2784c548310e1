"""People who log in to the pages: their accounts, the invitations that make them, and the
failed logins that slow a guesser down.

A user's `email` is stored normalised (`experiments.users.normalise_email`), so it is unique
however it was typed. `password_hash` is an argon2id hash in the PHC string format (the
parameters travel with it, so stronger ones can be adopted later). Roles go
`viewer` < `editor` < `admin`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from experiments.db import UTCDateTime


class UserRole(StrEnum):
    VIEWER = "viewer"  # reads pages and results
    EDITOR = "editor"  # also creates, edits, starts, ramps and stops experiments; pastes counts
    ADMIN = "admin"  # also manages keys, webhooks and users


ROLE_ORDER: tuple[UserRole, ...] = (UserRole.VIEWER, UserRole.EDITOR, UserRole.ADMIN)


class User(SQLModel, table=True):
    """One account (migration 0014_accounts)."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    password_hash: str = Field(max_length=200, repr=False)
    role: str = Field(max_length=16)
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class UserPublic(SQLModel):
    """What pages and the command line show of a user: never the hash."""

    id: int
    email: str
    role: UserRole
    disabled: bool
    created_at: datetime


class Invitation(SQLModel, table=True):
    """A single-use link to make an account; only the SHA-256 of its token is stored.

    Used once (`used_at`), or dead after `expires_at` (72 hours after it was made).
    """

    __tablename__ = "invitations"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    email: str = Field(max_length=254)
    role: str = Field(max_length=16)
    invited_by: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    )
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginFailures(SQLModel, table=True):
    """Failed logins of one account or one client address, kept as a SHA-256 of
    `account:<email>` or `address:<client>` so the table names nobody."""

    __tablename__ = "login_failures"

    subject_hash: str = Field(max_length=64, primary_key=True)
    failures: int
    last_failed_at: datetime = Field(sa_type=UTCDateTime)
    wait_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
