"""Secrets at rest (webhook URLs and signing secrets), encrypted with Fernet (AES-128-CBC and
HMAC-SHA256, from the `cryptography` library).

The keys come from `VEKST_ENCRYPTION_KEYS` (comma-separated): the first encrypts, every one
decrypts, so a key is rotated by putting a new one first and running `vekst webhooks
rotate-key`. Without the setting:

- in development a key is made once and kept in `encryption.key` next to the SQLite database
  (`./data/` for other databases), a file only its owner can read; a warning says so. It is
  never stored in the database, next to the data it protects;
- in production webhooks are neither created nor sent (`NotConfiguredError`, naming the
  setting); the server still starts.

A stored value is `fernet:` followed by the token. A value without that prefix was stored before
encryption (migration 0008 without a key) and is read as it is; `vekst webhooks rotate-key`
encrypts it.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.engine import make_url

from experiments.errors import NotConfiguredError
from experiments.settings import Settings

logger = logging.getLogger(__name__)

SEALED_PREFIX = "fernet:"
KEY_FILE_NAME = "encryption.key"
MISSING_KEYS = (
    "VEKST_ENCRYPTION_KEYS is not set: in production webhook URLs and secrets are stored "
    "encrypted with it, so webhooks can be neither created nor sent without it (make a key with "
    "`vekst webhooks new-key`; see docs/deployment.md, section 5)"
)


class UnreadableSecretError(Exception):
    """A stored value could not be decrypted with any of the keys (a key was removed too soon)."""


def key_file_for(database_url: str) -> Path:
    """Where development keeps its generated key: beside the SQLite file, else in ./data/."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(str(url.database)).parent / KEY_FILE_NAME
    return Path("data") / KEY_FILE_NAME


class KeyRing:
    """Encrypts and decrypts stored secrets; builds its keys on first use (thread-safe)."""

    def __init__(self, keys: Sequence[str] = (), key_file: Path | None = None) -> None:
        self._keys = tuple(keys)
        self._key_file = key_file
        self._fernet: MultiFernet | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings: Settings) -> KeyRing:
        """The keys of `VEKST_ENCRYPTION_KEYS`; without them, development's key file."""
        if settings.encryption_keys or settings.environment == "production":
            return cls(settings.encryption_keys)
        return cls(key_file=key_file_for(settings.database_url))

    def seal(self, text: str) -> str:
        """`text` encrypted with the first key, as stored."""
        return SEALED_PREFIX + self._multi().encrypt(text.encode()).decode()

    def open(self, stored: str) -> str:
        """The text of a stored value (a value stored before encryption is returned as it is,
        though only when keys are at hand: production refuses to send without them)."""
        fernet = self._multi()
        if not stored.startswith(SEALED_PREFIX):
            return stored
        try:
            return fernet.decrypt(stored.removeprefix(SEALED_PREFIX).encode()).decode()
        except InvalidToken as error:
            raise UnreadableSecretError from error

    def reseal(self, stored: str) -> str:
        """A stored value encrypted again with the first key (a plain one for the first time)."""
        return self.seal(self.open(stored))

    def _multi(self) -> MultiFernet:
        with self._lock:
            if self._fernet is None:
                keys = self._keys or (self._development_key(),)
                self._fernet = MultiFernet([Fernet(key) for key in keys])
            return self._fernet

    def _development_key(self) -> str:
        if self._key_file is None:
            raise NotConfiguredError(MISSING_KEYS)
        if not self._key_file.exists():
            _create_key_file(self._key_file)
            logger.warning(
                "VEKST_ENCRYPTION_KEYS is not set: webhook secrets are encrypted with a key made "
                "for development and kept in %s; set VEKST_ENCRYPTION_KEYS in production",
                self._key_file,
            )
        return self._key_file.read_text().strip()


def _create_key_file(path: Path) -> None:
    """Write a new key to `path`, readable by its owner only; a key another process wrote there
    first wins (the new file is linked into place, which fails if one exists)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(Fernet.generate_key().decode() + "\n")
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink(missing_ok=True)
