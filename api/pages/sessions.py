"""Page sessions: the admin key is typed once into a form, then a signed cookie stands for it.

The cookie holds the SHA-256 hash of the key (never the key), an expiry and a random id,
signed with HMAC-SHA256. Each request re-checks that the hashed key is still an active admin
key, so revoking the key (or changing the configured one) ends its sessions at once. The CSRF
token of a form is an HMAC of the session id: it cannot be read from another site (the cookie
is HttpOnly and SameSite=Strict) and must come back with every action.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from sqlmodel import Session, select

from experiments.audit import ENVIRONMENT_ADMIN_KEY, Actor
from experiments.keys import hash_key
from experiments.models.api_key import ApiKey, KeyScope
from experiments.settings import Settings

COOKIE_NAME = "vekst_session"
SESSION_SECONDS = 8 * 3600


@dataclass(frozen=True, slots=True)
class PageSession:
    """A verified cookie: whose key (its hash), until when, and the session's id."""

    key_hash: str
    expires_at: float
    session_id: str


class SessionSigner:
    """Issues and verifies session cookies and CSRF tokens with one server secret."""

    def __init__(self, secret: bytes, lifetime_seconds: int = SESSION_SECONDS) -> None:
        self._secret = secret
        self._lifetime = lifetime_seconds

    @classmethod
    def for_settings(cls, settings: Settings) -> SessionSigner:
        """The configured session secret; else one derived from the configured admin key (the
        same in every worker, and changing the key ends the sessions); else a random one for
        this process."""
        if settings.session_secret:
            return cls(settings.session_secret.encode())
        if settings.admin_key:
            derived = hmac.new(settings.admin_key.encode(), b"vekst pages session", "sha256")
            return cls(derived.digest())
        return cls(secrets.token_bytes(32))

    def issue(self, key_hash: str, now: float | None = None) -> str:
        payload = {
            "k": key_hash,
            "e": (now or time.time()) + self._lifetime,
            "i": secrets.token_urlsafe(16),
        }
        body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
        return f"{body}.{self._sign(body)}"

    def read(self, token: str | None, now: float | None = None) -> PageSession | None:
        """The session of a cookie with a valid signature that has not expired, else None."""
        if not token or len(token) > 1000 or "." not in token:
            return None
        body, signature = token.rsplit(".", 1)
        if not hmac.compare_digest(signature, self._sign(body)):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            found = PageSession(str(data["k"]), float(data["e"]), str(data["i"]))
        except (ValueError, KeyError, TypeError):
            return None
        if found.expires_at <= (now or time.time()):
            return None
        return found

    def csrf_token(self, page_session: PageSession) -> str:
        return self._sign(f"csrf:{page_session.session_id}")

    def csrf_ok(self, page_session: PageSession, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token, self.csrf_token(page_session))

    def _sign(self, text: str) -> str:
        digest = hmac.new(self._secret, text.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def admin_of(session: Session, settings: Settings, key_hash: str) -> Actor | None:
    """Who the hashed key is, while it is the configured admin key or a stored, unrevoked admin
    key; None once it is neither (revoked, changed, or never one)."""
    if settings.admin_key and hmac.compare_digest(hash_key(settings.admin_key), key_hash):
        return ENVIRONMENT_ADMIN_KEY
    found = session.exec(
        select(ApiKey).where(
            ApiKey.key_hash == key_hash,
            ApiKey.scope == KeyScope.ADMIN.value,
            ApiKey.revoked_at.is_(None),  # type: ignore[union-attr]
        )
    ).first()
    return None if found is None else Actor(found.id, found.name)
