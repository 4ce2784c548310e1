"""The pages' sessions, kept in the database, and the secrets every process shares.

A session is a random id given to the browser once; only its SHA-256 is stored. Logging out,
a new login in the same browser, or a change to the user (role, disabled, password reset) sets
`ended_at`, so a copied cookie stops working at once in every process. Rows past their expiry
are deleted whenever someone logs in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from experiments.db import session_scope
from experiments.models.page_session import PageSessionRecord, ServerSecret


def _id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def open_session(
    session: Session, user_id: int, lifetime: timedelta, now: datetime | None = None
) -> str:
    """Record a new session of the user and return its random id, which is not stored.
    Expired sessions are deleted on the way."""
    now = now or datetime.now(UTC)
    session.execute(delete(PageSessionRecord).where(col(PageSessionRecord.expires_at) <= now))
    session_id = secrets.token_urlsafe(32)
    record = PageSessionRecord(
        id_hash=_id_hash(session_id),
        user_id=user_id,
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(record)
    session.flush()
    return session_id


def active_session(
    session: Session, session_id: str, now: datetime | None = None
) -> PageSessionRecord | None:
    """The session with this id while it has neither ended nor expired, else None."""
    record = session.get(PageSessionRecord, _id_hash(session_id))
    if record is None or record.ended_at is not None:
        return None
    if record.expires_at <= (now or datetime.now(UTC)):
        return None
    return record


def end_session(session: Session, session_id: str, now: datetime | None = None) -> None:
    """End the session with this id (logging out); an unknown id changes nothing."""
    session.execute(
        update(PageSessionRecord)
        .where(
            col(PageSessionRecord.id_hash) == _id_hash(session_id),
            col(PageSessionRecord.ended_at).is_(None),
        )
        .values(ended_at=now or datetime.now(UTC))
    )


def end_sessions_of_user(
    session: Session, user_id: int, keep: str | None = None, now: datetime | None = None
) -> None:
    """End every session of the user (role changed, disabled, password reset), but the one
    with id `keep` when given (the browser that changed its own password)."""
    query = update(PageSessionRecord).where(
        col(PageSessionRecord.user_id) == user_id, col(PageSessionRecord.ended_at).is_(None)
    )
    if keep is not None:
        query = query.where(col(PageSessionRecord.id_hash) != _id_hash(keep))
    session.execute(query.values(ended_at=now or datetime.now(UTC)))


def shared_secret(engine: Engine, name: str) -> str:
    """The secret called `name`, made once and then the same for every process and host.

    Processes starting together may all find it missing: each tries to insert one, the primary
    key lets only the first in, and every process then reads the one that was stored.
    """
    with Session(engine) as session:
        found = session.get(ServerSecret, name)
        if found is not None:
            return found.value
    try:
        with session_scope(engine) as session:
            made = secrets.token_urlsafe(48)
            session.add(ServerSecret(name=name, value=made, created_at=datetime.now(UTC)))
    except IntegrityError:
        pass  # another process stored its secret first; that one is read below
    with Session(engine) as session:
        stored = session.get(ServerSecret, name)
        if stored is None:
            raise RuntimeError(f"the shared secret '{name}' was neither stored nor found")
        return stored.value
