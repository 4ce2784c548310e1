"""Creating, verifying and revoking API keys. Only SHA-256 hashes of the keys are stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import Session, select

from experiments.audit import COMMAND_LINE, Actor, record_change
from experiments.errors import ConflictError, NotFoundError
from experiments.models.api_key import EVENT_SOURCES, ApiKey, EventSource, KeyScope
from experiments.models.audit import AuditEntity

PREFIX_LENGTH = 12


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A newly created key: `secret` is shown once and never stored."""

    id: int
    scope: KeyScope
    prefix: str
    secret: str


@dataclass(frozen=True, slots=True)
class KeyIdentity:
    """Who a verified key is: its scope and, for the audit log, its id and name."""

    scope: KeyScope
    actor: Actor

    @property
    def source(self) -> EventSource:
        """What the events this key sends are stored with (`source`)."""
        return EVENT_SOURCES[self.scope]


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_key(
    session: Session, scope: KeyScope, name: str = "", actor: Actor = COMMAND_LINE
) -> IssuedKey:
    secret = f"vk_{scope.value}_{secrets.token_urlsafe(32)}"
    record = ApiKey(
        prefix=secret[:PREFIX_LENGTH],
        key_hash=hash_key(secret),
        scope=scope.value,
        name=name,
        created_at=datetime.now(UTC),
    )
    session.add(record)
    session.flush()
    if record.id is None:
        raise RuntimeError("the database assigned no id to the new key")
    record_change(session, actor, AuditEntity.KEY, str(record.id), "created", None, _state(record))
    return IssuedKey(record.id, scope, record.prefix, secret)


def revoke_key(session: Session, prefix_or_id: str, actor: Actor = COMMAND_LINE) -> ApiKey:
    """Revoke the key whose id or printed prefix is given; it stops working at once."""
    query = select(ApiKey).where(ApiKey.revoked_at.is_(None))  # type: ignore[union-attr]
    if prefix_or_id.isdigit():
        query = query.where(ApiKey.id == int(prefix_or_id))
    else:
        query = query.where(ApiKey.prefix == prefix_or_id[:PREFIX_LENGTH])
    found = session.exec(query.limit(2)).all()
    if not found:
        raise NotFoundError(f"no active key with id or prefix '{prefix_or_id}'")
    if len(found) > 1:
        # A server key's prefix has only two random characters after `vk_server_`.
        raise ConflictError(
            f"several active keys have the prefix '{prefix_or_id}'; revoke by id (vekst keys list)"
        )
    record = found[0]
    before = _state(record)
    record.revoked_at = datetime.now(UTC)
    session.add(record)
    record_change(
        session, actor, AuditEntity.KEY, str(record.id), "revoked", before, _state(record)
    )
    return record


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.exec(select(ApiKey).order_by(ApiKey.id)))  # type: ignore[arg-type]


def count_keys(session: Session) -> int:
    return session.exec(select(func.count()).select_from(ApiKey)).one()


def find_key(session: Session, secret: str) -> KeyIdentity | None:
    """The identity of an active stored key, or None. The hash comparison runs in constant time."""
    digest = hash_key(secret)
    record = session.exec(
        select(ApiKey).where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None))  # type: ignore[union-attr]
    ).first()
    if record is None or not hmac.compare_digest(record.key_hash, digest):
        return None
    return KeyIdentity(KeyScope(record.scope), Actor(record.id, record.name))


def matches_configured(secret: str, configured: str | None) -> bool:
    """Compare against a key given in the settings, in constant time."""
    return configured is not None and hmac.compare_digest(
        secret.encode("utf-8"), configured.encode("utf-8")
    )


def _state(record: ApiKey) -> dict[str, object]:
    """What the audit log shows of a key: never its secret or hash."""
    revoked = record.revoked_at.isoformat() if record.revoked_at else None
    return {
        "scope": record.scope,
        "name": record.name,
        "prefix": record.prefix,
        "revoked_at": revoked,
    }
