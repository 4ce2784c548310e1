"""HMAC-SHA256 signatures with a server secret that every process and host shares.

The secret is `VEKST_SESSION_SECRET` when it is set (derived per purpose when a `purpose` is
given, so one purpose's signatures never pass as another's), else one made once and kept in the
database under the signer's name (`page_sessions.shared_secret`). It is read on first use, not
when the app is built, and kept for the life of the process.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading

from sqlalchemy.engine import Engine

from experiments import page_sessions
from experiments.settings import Settings


class Signer:
    """Signs text with the secret named `name`; `purpose` derives it from the configured one."""

    def __init__(
        self, engine: Engine, settings: Settings, name: str, purpose: bytes | None = None
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._name = name
        self._purpose = purpose
        self._secret: bytes | None = None
        self._lock = threading.Lock()

    def sign(self, text: str) -> str:
        """The URL-safe base64 HMAC-SHA256 of `text`, without padding."""
        digest = hmac.new(self.secret(), text.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def secret(self) -> bytes:
        """The secret's bytes, read (or made) on first use."""
        if self._secret is None:
            with self._lock:
                if self._secret is None:
                    self._secret = self._load()
        return self._secret

    def _load(self) -> bytes:
        configured = self._settings.session_secret
        if configured:
            if self._purpose is None:
                return configured.encode()
            return hmac.new(configured.encode(), self._purpose, hashlib.sha256).digest()
        return page_sessions.shared_secret(self._engine, self._name).encode()
