"""Page sessions: the admin key is typed once into a form, then a cookie with a random id stands
for it.

The cookie holds only that id and an HMAC-SHA256 of it; the database keeps the id's hash, which
key logged in, and when the session ends (`experiments.page_sessions`). Each request re-checks
that the session is active and its key still an active admin key, so logging out, revoking the
key or changing the configured one ends the session at once, in every process.

The secret behind the HMACs is `VEKST_SESSION_SECRET`, or when unset one made once and kept in
the database, so every worker and host reads the same. The CSRF token of a form is an HMAC of
the session id: it cannot be read from another site (the cookie is HttpOnly and
SameSite=Strict) and must come back with every action.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from experiments import page_sessions
from experiments.audit import ENVIRONMENT_ADMIN_KEY, Actor
from experiments.keys import hash_key
from experiments.models.api_key import ApiKey, KeyScope
from experiments.models.page_session import PageSessionRecord
from experiments.settings import Settings

COOKIE_NAME = "vekst_session"
SESSION_SECONDS = 8 * 3600
SECRET_NAME = "page_sessions"
MAX_COOKIE_LENGTH = 200


@dataclass(frozen=True, slots=True)
class PageSession:
    """An active session: its id (from the cookie) and the key that logged in."""

    session_id: str
    actor: Actor


class PageSessions:
    """Opens, verifies and ends page sessions, and makes their CSRF tokens.

    The secret is read on first use (not when the app is built), from the settings or else the
    database, and kept for the life of the process.
    """

    def __init__(
        self, engine: Engine, settings: Settings, lifetime_seconds: int = SESSION_SECONDS
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._lifetime = timedelta(seconds=lifetime_seconds)
        self._secret: bytes | None = None
        self._lock = threading.Lock()

    def open(self, session: Session, key: str, actor: Actor) -> str:
        """A new session of the verified admin `key` (whose id, if stored, is `actor.key_id`);
        returns the cookie's value."""
        digest = self._key_digest(hash_key(key))
        session_id = page_sessions.open_session(session, actor.key_id, digest, self._lifetime)
        return f"{session_id}.{self._sign('session:' + session_id)}"

    def read(self, session: Session, cookie: str | None) -> PageSession | None:
        """The active session of a cookie, while its key is still an active admin key; else
        None."""
        session_id = self._session_id(cookie)
        if session_id is None:
            return None
        record = page_sessions.active_session(session, session_id)
        if record is None:
            return None
        actor = self._admin_of(session, record)
        return None if actor is None else PageSession(session_id, actor)

    def end(self, session: Session, cookie: str | None) -> None:
        """End the cookie's session (logging out); a cookie that is not one does nothing."""
        session_id = self._session_id(cookie)
        if session_id is not None:
            page_sessions.end_session(session, session_id)

    def csrf_token(self, page_session: PageSession) -> str:
        return self._sign(f"csrf:{page_session.session_id}")

    def csrf_ok(self, page_session: PageSession, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token, self.csrf_token(page_session))

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
        if not hmac.compare_digest(signature, self._sign("session:" + session_id)):
            return None
        return session_id

    def _admin_of(self, session: Session, record: PageSessionRecord) -> Actor | None:
        """Who opened the session, while that key is still the configured admin key or a
        stored, unrevoked admin key; None once it is neither (revoked, changed)."""
        if record.key_id is None:
            configured = self._settings.admin_key
            if configured and self._digest_matches(hash_key(configured), record):
                return ENVIRONMENT_ADMIN_KEY
            return None
        found = session.exec(
            select(ApiKey).where(
                ApiKey.id == record.key_id,
                ApiKey.scope == KeyScope.ADMIN.value,
                ApiKey.revoked_at.is_(None),  # type: ignore[union-attr]
            )
        ).first()
        if found is None or not self._digest_matches(found.key_hash, record):
            return None
        return Actor(found.id, found.name)

    def _digest_matches(self, key_hash: str, record: PageSessionRecord) -> bool:
        return hmac.compare_digest(self._key_digest(key_hash), record.key_digest)

    def _key_digest(self, key_hash: str) -> str:
        # Keyed, so the stored digest is not the key's plain hash (`api_keys.key_hash`).
        return hmac.new(self._secret_bytes(), key_hash.encode(), hashlib.sha256).hexdigest()

    def _sign(self, text: str) -> str:
        digest = hmac.new(self._secret_bytes(), text.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def _secret_bytes(self) -> bytes:
        if self._secret is None:
            with self._lock:
                if self._secret is None:
                    self._secret = self._load_secret()
        return self._secret

    def _load_secret(self) -> bytes:
        if self._settings.session_secret:
            return self._settings.session_secret.encode()
        return page_sessions.shared_secret(self._engine, SECRET_NAME).encode()
