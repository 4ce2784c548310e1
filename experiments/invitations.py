"""Invitations: an admin makes a single-use link that expires after 72 hours; whoever opens it
chooses a password and has an account with the role the admin chose.

No mail is sent: the admin passes the link on. Its token is random (256 bits) and shown once;
only its SHA-256 is stored, so a copy of the database cannot be turned into a link. Accepting
marks the invitation used in the same statement that checks it is unused, so two browsers
racing on one link make one account.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from experiments import passwords, users
from experiments.audit import Actor, record_change
from experiments.errors import NotFoundError
from experiments.models.audit import AuditEntity
from experiments.models.user import Invitation, User, UserRole

LIFETIME = timedelta(hours=72)
MAX_TOKEN_LENGTH = 100


@dataclass(frozen=True, slots=True)
class IssuedInvitation:
    """A new invitation: `token` goes in the link, is shown once and never stored."""

    id: int
    email: str
    role: UserRole
    token: str
    expires_at: datetime


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invite(
    session: Session, email: str, role: UserRole, actor: Actor, now: datetime | None = None
) -> IssuedInvitation:
    """An invitation for `email` (not yet an account's) to join with `role`."""
    email = users.normalise_email(email)
    users.ensure_email_free(session, email)
    now = now or datetime.now(UTC)
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        token_hash=_token_hash(token),
        email=email,
        role=role.value,
        invited_by=actor.user_id,
        created_at=now,
        expires_at=now + LIFETIME,
    )
    session.add(invitation)
    session.flush()
    if invitation.id is None:
        raise RuntimeError("the database assigned no id to the new invitation")
    state = {"email": email, "role": role.value, "expires_at": invitation.expires_at.isoformat()}
    record_change(
        session, actor, AuditEntity.USER, f"invitation {invitation.id}", "invited", None, state
    )
    return IssuedInvitation(invitation.id, email, role, token, invitation.expires_at)


def open_invitation(session: Session, token: str, now: datetime | None = None) -> Invitation:
    """The unused, unexpired invitation of `token`; a `NotFoundError` for any other token, so
    a used, expired and made-up link all read the same."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise _no_invitation()
    invitation = session.exec(
        select(Invitation).where(Invitation.token_hash == _token_hash(token))
    ).first()
    if invitation is None or invitation.used_at is not None:
        raise _no_invitation()
    if invitation.expires_at <= (now or datetime.now(UTC)):
        raise _no_invitation()
    return invitation


def accept(session: Session, token: str, password: str, now: datetime | None = None) -> User:
    """Make the invited account with `password`; the link is used up (only once the password
    is accepted)."""
    now = now or datetime.now(UTC)
    invitation = open_invitation(session, token, now)
    # Checked before the link is used up: a refused password leaves it usable.
    passwords.check_new_password(password)
    users.ensure_email_free(session, invitation.email)
    marked = session.execute(
        update(Invitation)
        .where(col(Invitation.id) == invitation.id, col(Invitation.used_at).is_(None))
        .values(used_at=now)
    )
    if marked.rowcount != 1:  # type: ignore[attr-defined]
        raise _no_invitation()
    role = UserRole(invitation.role)
    # The new user is the actor of their own account's creation: the log names them.
    return users.create_user(session, invitation.email, password, role, actor=None)


def pending(session: Session, now: datetime | None = None) -> list[Invitation]:
    """Invitations not yet used nor expired, newest first."""
    return list(
        session.exec(
            select(Invitation)
            .where(
                col(Invitation.used_at).is_(None),
                Invitation.expires_at > (now or datetime.now(UTC)),
            )
            .order_by(col(Invitation.id).desc())
        )
    )


def _no_invitation() -> NotFoundError:
    return NotFoundError("this invitation link is unknown, used or expired; ask for a new one")
