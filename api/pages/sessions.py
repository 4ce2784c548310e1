"""Page sessions: a person logs in with their e-mail and password once, then a cookie with a
random id stands for them.

The cookie holds only that id and an HMAC-SHA256 of it; the database keeps the id's hash, which
user logged in, and when the session ends (`experiments.page_sessions`). Each request re-reads
the user, so their current role applies and a disabled user is out at once; logging out, a new
login, a role change, disabling and a password reset end the session in every process.

The secret behind the HMACs is `VEKST_SESSION_SECRET`, or when unset one made once and kept in
the database, so every worker and host reads the same. The CSRF token of a form is an HMAC of
the session id: it cannot be read from another site (the cookie is HttpOnly and
SameSite=Strict) and must come back with every action.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from experiments import page_sessions
from experiments.audit import Actor, user_actor
from experiments.models.user import User, UserRole
from experiments.settings import Settings
from experiments.signing import Signer

COOKIE_NAME = "vekst_session"
SESSION_SECONDS = 8 * 3600
SECRET_NAME = "page_sessions"
MAX_COOKIE_LENGTH = 200


def same_text(sent: str, expected: str) -> bool:
    """Compare in constant time; as bytes, since `hmac.compare_digest` raises on a str that is
    not ASCII (a hostile cookie or form field)."""
    return hmac.compare_digest(
        sent.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


@dataclass(frozen=True, slots=True)
class PageSession:
    """An active session: its id (from the cookie) and the user who logged in, as they are
    now (`role` is read afresh on every request)."""

    session_id: str
    user_id: int
    email: str
    role: UserRole

    @property
    def actor(self) -> Actor:
        """Who the audit log names for this session's changes."""
        return user_actor(self.user_id, self.email)


class PageSessions:
    """Opens, verifies and ends page sessions, and makes their CSRF tokens.

    The secret is read on first use (not when the app is built), from the settings or else the
    database, and kept for the life of the process.
    """

    def __init__(
        self, engine: Engine, settings: Settings, lifetime_seconds: int = SESSION_SECONDS
    ) -> None:
        self._settings = settings
        self._lifetime = timedelta(seconds=lifetime_seconds)
        self._signer = Signer(engine, settings, SECRET_NAME)

    def open(self, session: Session, user_id: int, replacing: str | None = None) -> str:
        """A new session of the user, who has just proven their password; the session of the
        cookie `replacing` (the browser's earlier one) ends. Returns the new cookie's value."""
        self.end(session, replacing)  # a new id at every login: a planted cookie is useless
        session_id = page_sessions.open_session(session, user_id, self._lifetime)
        return f"{session_id}.{self._sign('session:' + session_id)}"

    def ready(self) -> None:
        """Read (or make) the secret now, before a login's transaction writes: making it takes
        a transaction of its own, which on SQLite would wait for the login's to end."""
        self._signer.secret()

    def read(self, session: Session, cookie: str | None) -> PageSession | None:
        """The active session of a cookie, while its user is not disabled; else None."""
        session_id = self._session_id(cookie)
        if session_id is None:
            return None
        record = page_sessions.active_session(session, session_id)
        if record is None:
            return None
        user = session.get(User, record.user_id)
        if user is None or user.id is None or user.disabled_at is not None:
            return None
        return PageSession(session_id, user.id, user.email, UserRole(user.role))

    def end(self, session: Session, cookie: str | None) -> None:
        """End the cookie's session (logging out); a cookie that is not one does nothing."""
        session_id = self._session_id(cookie)
        if session_id is not None:
            page_sessions.end_session(session, session_id)

    def csrf_token(self, page_session: PageSession) -> str:
        return self._sign(f"csrf:{page_session.session_id}")

    def csrf_ok(self, page_session: PageSession, token: str | None) -> bool:
        return token is not None and same_text(token, self.csrf_token(page_session))

    def cookie_secure(self, scheme: str) -> bool:
        """Whether the cookie gets `Secure`: as `VEKST_COOKIE_SECURE` says; unset, always in
        production, else when the request came over HTTPS."""
        if self._settings.cookie_secure is not None:
            return self._settings.cookie_secure
        return self._settings.environment == "production" or scheme == "https"

    def _session_id(self, cookie: str | None) -> str | None:
        if not cookie or len(cookie) > MAX_COOKIE_LENGTH or "." not in cookie:
            return None
        session_id, signature = cookie.rsplit(".", 1)
        if not same_text(signature, self._sign("session:" + session_id)):
            return None
        return session_id

    def _sign(self, text: str) -> str:
        return self._signer.sign(text)
