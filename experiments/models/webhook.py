"""Webhooks (alert subscriptions) and their deliveries: table models and API shapes.

Input contract (one place): `url` is an absolute http(s) URL of at most 2000 characters, without
credentials (`url_rule_broken`), whose host resolves to public addresses only (checked by
`experiments/webhooks/targets.py`); `events` is a non-empty list of distinct alert kinds
(`AlertKind`); `secret`, when given, is 16-200 printable characters (without one the server
makes one and returns it once, in the response to the creation). The secret signs every delivery
and is never returned afterwards.

Both the URL and the secret are secrets: stored encrypted (`experiments/encryption.py`), and the
URL is shown as scheme and host only (`url_shown`, such as `https://hooks.slack.com/…`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import httpx
from pydantic import ConfigDict, Field, StringConstraints, field_validator
from sqlalchemy import JSON, Column, ForeignKey, Integer, Text
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from experiments.db import UTCDateTime


class AlertKind(StrEnum):
    VERDICT_CHANGED = "verdict_changed"
    GUARDRAIL_HARMED = "guardrail_harmed"
    SRM_DETECTED = "srm_detected"
    DATA_QUALITY = "data_quality"
    EFFECT_CHANGING = "effect_changing"
    SEGMENT_DIFFERS = "segment_differs"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


def url_rule_broken(url: str) -> str | None:
    """The rule `url` breaks as a webhook URL, or None: it must be an absolute http(s) URL that
    httpx can send to, without whitespace, control characters or credentials (`user:pass@`)."""
    if any(character.isspace() or not character.isprintable() for character in url):
        return "must not contain whitespace or control characters (such as NUL)"
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        return "is not a valid URL"
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return "must be an absolute http:// or https:// URL"
    if parsed.userinfo:
        return "must not hold credentials (user:password@); the signing secret authenticates Vekst"
    return None


WebhookSecret = Annotated[
    str, StringConstraints(min_length=16, max_length=200, pattern=r"^[\x21-\x7e]+$")
]


class WebhookCreate(SQLModel):
    """Body of `POST /v1/webhooks`."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    url: str = Field(max_length=2000)
    events: list[AlertKind] = Field(min_length=1)
    secret: WebhookSecret | None = Field(default=None, repr=False)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        broken = url_rule_broken(value)
        if broken is not None:
            raise ValueError(broken)
        return value

    @field_validator("events")
    @classmethod
    def _distinct(cls, value: list[AlertKind]) -> list[AlertKind]:
        if len(set(value)) != len(value):
            raise ValueError("must not name an event twice")
        return value


class Webhook(SQLModel, table=True):
    __tablename__ = "webhooks"
    # Ids are never reused (SQLite would reuse a deleted newest id): the audit log names them.
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = SQLField(default=None, primary_key=True)
    url: str = SQLField(sa_column=Column(Text, nullable=False), repr=False)  # encrypted
    url_shown: str = SQLField(max_length=300)  # scheme and host, as listings show it
    events: list[str] = SQLField(sa_column=Column(JSON, nullable=False))
    secret: str = SQLField(sa_column=Column(Text, nullable=False), repr=False)  # encrypted
    created_at: datetime = SQLField(sa_type=UTCDateTime)


class WebhookPublic(SQLModel):
    """A webhook as the API shows it: never with its secret, and its URL as scheme and host."""

    id: int
    url: str = Field(description="Scheme and host only, such as `https://hooks.slack.com/…`.")
    events: list[AlertKind]
    created_at: datetime


class WebhookCreated(WebhookPublic):
    """The answer to a creation; `secret` only when the server made it (shown this once)."""

    secret: str | None = None


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_deliveries"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = SQLField(default=None, primary_key=True)
    webhook_id: int = SQLField(
        sa_column=Column(Integer, ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False)
    )
    event: str = SQLField(max_length=32)
    experiment: str = SQLField(max_length=64)
    look: int
    body: str = SQLField(sa_column=Column(Text, nullable=False))
    status: str = SQLField(max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = SQLField(sa_type=UTCDateTime)
    response_status: int | None = None
    error: str | None = SQLField(default=None, max_length=500)
    created_at: datetime = SQLField(sa_type=UTCDateTime)
    delivered_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime)


class DeliveryPublic(SQLModel):
    id: int
    event: AlertKind
    experiment: str
    look: int
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    response_status: int | None
    error: str | None = Field(
        description="Why the last attempt failed, in words: `HTTP 500`, `timed out`, "
        "`connection failed`, `host not found`, `refused: private address`, `invalid URL`, "
        "`no encryption key`, `cannot decrypt` or `attempt failed`."
    )
    created_at: datetime
    delivered_at: datetime | None
