"""Preview tokens: a preview link of a no-code variant works before its experiment starts.

The experiment page signs a token naming an experiment and one of its variants, valid for
`PREVIEW_SECONDS`; the browser SDK's no-code build sends it to `GET /v1/sdk/preview`, which
answers with that one experiment (a draft too) as a config document. Drafts stay out of the
normal SDK config: only a token the server signed opens one, and only until it expires.

A token reads `<experiment>:<variant>:<expires>:<signature>`: keys are slugs (no `:`), the
expiry is Unix seconds, and the signature is a base64url HMAC-SHA256 of the rest under a secret
of its own (`VEKST_SESSION_SECRET` with this purpose mixed in, or else one made once and kept in
the database), so a page session's HMAC can never pass for a token, nor the other way round.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from experiments import page_sessions
from experiments.definitions import get_experiment
from experiments.errors import InvalidInputError
from experiments.models.experiment import SERVED_STATUSES, Experiment
from experiments.sdk_config import CONFIG_VERSION, experiment_entry
from experiments.settings import Settings

PREVIEW_SECONDS = 7 * 24 * 3600
SECRET_NAME = "preview_tokens"
FIELD = "token"
MAX_TOKEN_LENGTH = 300
TOKEN = re.compile(r"^([a-z0-9_-]{1,64}):([a-z0-9_-]{1,64}):(\d{1,12}):([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True, slots=True)
class Preview:
    """What a valid token opens: an experiment (any status) and one of its variants."""

    experiment: Experiment
    variant: str

    def document(self) -> dict[str, Any]:
        """The experiment alone as an SDK config document; a draft (or archived) one reads as
        running, as it will once started, since SDKs evaluate only served statuses."""
        entry = experiment_entry(self.experiment)
        if self.experiment.status not in SERVED_STATUSES:
            entry |= {"status": "running", "winner": None}
        return {"version": CONFIG_VERSION, "experiments": [entry]}


class PreviewTokens:
    """Signs and reads preview tokens; the secret is read on first use and then kept."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings
        self._secret: bytes | None = None
        self._lock = threading.Lock()

    def sign(self, experiment: str, variant: str, now: datetime) -> str:
        """A token for `variant` of `experiment`, valid for `PREVIEW_SECONDS` from `now`."""
        body = f"{experiment}:{variant}:{int(now.timestamp()) + PREVIEW_SECONDS}"
        return f"{body}:{self._signature(body)}"

    def read(self, session: Session, token: str, now: datetime) -> Preview:
        """The experiment and variant a token opens; a token that is malformed, forged or
        expired, or names what no longer exists, is refused naming the field `token`."""
        found = TOKEN.match(token) if len(token) <= MAX_TOKEN_LENGTH else None
        if found is None:
            raise InvalidInputError(FIELD, "must be '<experiment>:<variant>:<expires>:<signature>'")
        key, variant, expires, signature = found.groups()
        body = f"{key}:{variant}:{expires}"
        if not hmac.compare_digest(signature.encode(), self._signature(body).encode()):
            raise InvalidInputError(FIELD, "is not signed by this server")
        if int(expires) < now.timestamp():
            raise InvalidInputError(FIELD, "has expired: open the experiment page for a new link")
        experiment = get_experiment(session, key)
        if variant not in experiment.variant_keys():
            raise InvalidInputError(FIELD, f"names variant '{variant}', no longer in '{key}'")
        return Preview(experiment, variant)

    def _signature(self, body: str) -> str:
        digest = hmac.new(self._secret_bytes(), body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def _secret_bytes(self) -> bytes:
        if self._secret is None:
            with self._lock:
                if self._secret is None:
                    self._secret = self._load_secret()
        return self._secret

    def _load_secret(self) -> bytes:
        if self._settings.session_secret:
            shared = self._settings.session_secret.encode()
            return hmac.new(shared, b"vekst preview tokens", hashlib.sha256).digest()
        return page_sessions.shared_secret(self._engine, SECRET_NAME).encode()
