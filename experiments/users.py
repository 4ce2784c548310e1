"""Accounts of the people who use the pages: create, log in, change a role, disable, passwords.

Every change is written to the audit log (entity `user`, keyed by the user's id) in the same
transaction, and every change that takes rights away ends the user's page sessions at once
(`page_sessions.end_sessions_of_user`): a role change, disabling, a password reset. The last
active admin can be neither demoted nor disabled, so the pages never lose their last admin.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from experiments import passwords
from experiments.audit import COMMAND_LINE, Actor, record_change, user_actor
from experiments.errors import ConflictError, InvalidInputError, NotFoundError
from experiments.inputs import text_problem
from experiments.models.audit import AuditEntity
from experiments.models.user import User, UserPublic, UserRole
from experiments.page_sessions import end_sessions_of_user

MAX_EMAIL_LENGTH = 254


def normalise_email(raw: str, field: str = "email") -> str:
    """The address as stored: trimmed and in lower case. Refused (naming `field`) unless it
    is storable text of at most 254 characters, one `@` between a local part and a domain
    with a dot, without spaces."""
    problem = text_problem(raw)
    if problem is not None:
        raise InvalidInputError(field, problem)
    email = raw.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH:
        raise InvalidInputError(field, f"must be at most {MAX_EMAIL_LENGTH} characters")
    local, at, domain = email.rpartition("@")
    if (
        not at
        or not local
        or "." not in domain.strip(".")
        or any(c.isspace() or not c.isprintable() for c in email)
    ):
        raise InvalidInputError(field, "must be an e-mail address such as ana@example.com")
    return email


def parse_role(raw: str, field: str = "role") -> UserRole:
    try:
        return UserRole(raw)
    except ValueError:
        raise InvalidInputError(field, "must be one of viewer, editor, admin") from None


def create_user(
    session: Session,
    email: str,
    password: str,
    role: UserRole,
    actor: Actor | None = COMMAND_LINE,
) -> User:
    """A new account; the e-mail must be free and the password follow the rules. The audit
    log names `actor` as its maker, or with None the new user (who accepted an invitation)."""
    email = normalise_email(email)
    ensure_email_free(session, email)
    passwords.check_new_password(password)
    now = datetime.now(UTC)
    user = User(
        email=email,
        password_hash=passwords.hash_password(password),
        role=role.value,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    session.flush()
    if user.id is None:
        raise RuntimeError("the database assigned no id to the new user")
    maker = actor or user_actor(user.id, user.email)
    record_change(session, maker, AuditEntity.USER, str(user.id), "created", None, _state(user))
    return user


def ensure_email_free(session: Session, email: str) -> None:
    if find_by_email(session, email) is not None:
        raise ConflictError(f"email '{email}' belongs to an account already")


def find_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email)).first()


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active account with this e-mail and password, else None. Takes as long for an
    unknown address as for a known one; a hash made with weaker parameters is upgraded."""
    user = find_by_email(session, email)
    if not passwords.verify_password(None if user is None else user.password_hash, password):
        return None
    if user is None or user.disabled_at is not None:
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
        session.add(user)
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"no user with id {user_id}")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.email))))


def change_role(session: Session, user_id: int, role: UserRole, actor: Actor) -> User:
    """Give the user `role`; their sessions end, so the new role applies from their next
    login on."""
    user = get_user(session, user_id)
    if user.role == role.value:
        return user
    if user.role == UserRole.ADMIN.value:
        _keep_an_admin(session, user, "demote")
    return _update(session, user, actor, "role", role=role.value)


def disable_user(session: Session, user_id: int, actor: Actor) -> User:
    """The user can no longer log in, and their sessions end at once."""
    user = get_user(session, user_id)
    if user.disabled_at is not None:
        return user
    if user.role == UserRole.ADMIN.value:
        _keep_an_admin(session, user, "disable")
    return _update(session, user, actor, "disabled", disabled_at=datetime.now(UTC))


def enable_user(session: Session, user_id: int, actor: Actor) -> User:
    user = get_user(session, user_id)
    if user.disabled_at is None:
        return user
    return _update(session, user, actor, "enabled", disabled_at=None)


def reset_password(session: Session, user_id: int, new_password: str, actor: Actor) -> User:
    """An admin sets a new password for the user (to pass on to them); their sessions end."""
    passwords.check_new_password(new_password)
    user = get_user(session, user_id)
    return _update(session, user, actor, "password", password_hash=_hash(new_password))


def change_own_password(
    session: Session, user: User, current: str, new_password: str, keep_session: str
) -> User:
    """The user changes their own password, proving the current one; their other sessions
    end, the one with id `keep_session` (this browser) stays."""
    if not passwords.verify_password(user.password_hash, current):
        raise InvalidInputError("current_password", "is not your current password")
    passwords.check_new_password(new_password, "new_password")
    if user.id is None:
        raise RuntimeError("a user is changed before it is stored")
    actor = user_actor(user.id, user.email)
    return _update(
        session, user, actor, "password", keep_session, password_hash=_hash(new_password)
    )


def to_public(user: User) -> UserPublic:
    if user.id is None:
        raise RuntimeError("a user is shown before it is stored")
    return UserPublic(
        id=user.id,
        email=user.email,
        role=UserRole(user.role),
        disabled=user.disabled_at is not None,
        created_at=user.created_at,
    )


def _hash(password: str) -> str:
    return passwords.hash_password(password)


def _update(
    session: Session,
    user: User,
    actor: Actor,
    action: str,
    keep_session: str | None = None,
    **values: object,
) -> User:
    """Change the user's `values`, end their sessions (but `keep_session`), log the change."""
    if user.id is None:
        raise RuntimeError("a user is changed before it is stored")
    before = _state(user)
    for name, value in values.items():
        setattr(user, name, value)
    user.updated_at = datetime.now(UTC)
    session.add(user)
    end_sessions_of_user(session, user.id, keep=keep_session)
    # A new password shows as no field (the hash is never logged), only as the action.
    logged_before = None if action == "password" else before
    record_change(
        session, actor, AuditEntity.USER, str(user.id), action, logged_before, _state(user)
    )
    return user


def _keep_an_admin(session: Session, user: User, verb: str) -> None:
    admins = session.exec(
        select(func.count())
        .select_from(User)
        .where(User.role == UserRole.ADMIN.value, col(User.disabled_at).is_(None))
    ).one()
    if user.disabled_at is None and admins <= 1:
        raise ConflictError(
            f"cannot {verb} {user.email}: the last active admin; make another admin first"
        )


def _state(user: User) -> dict[str, object]:
    """What the audit log shows of a user: never the password hash."""
    disabled = user.disabled_at.isoformat() if user.disabled_at else None
    return {"email": user.email, "role": user.role, "disabled_at": disabled}
