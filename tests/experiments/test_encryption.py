"""Secrets at rest: keys from the environment, rotation, the development key file, and the
refusal in production without keys."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from experiments.encryption import SEALED_PREFIX, KeyRing, UnreadableSecretError
from experiments.errors import NotConfiguredError
from experiments.settings import load_settings
from tests.experiments.webhooks.helpers import NEXT_KEY, TEST_KEY


def test_the_first_key_encrypts_and_every_key_decrypts() -> None:
    old = KeyRing([TEST_KEY])
    sealed = old.seal("https://hooks.slack.com/services/T/B/SECRET")
    assert sealed.startswith(SEALED_PREFIX) and "SECRET" not in sealed
    both = KeyRing([NEXT_KEY, TEST_KEY])
    assert both.open(sealed) == "https://hooks.slack.com/services/T/B/SECRET"
    rotated = both.reseal(sealed)
    assert KeyRing([NEXT_KEY]).open(rotated) == "https://hooks.slack.com/services/T/B/SECRET"
    with pytest.raises(UnreadableSecretError):
        KeyRing([TEST_KEY]).open(rotated)


def test_a_value_stored_before_encryption_is_read_as_it_is() -> None:
    keys = KeyRing([TEST_KEY])
    assert keys.open("http://127.0.0.1:9/plain") == "http://127.0.0.1:9/plain"
    assert keys.reseal("http://127.0.0.1:9/plain").startswith(SEALED_PREFIX)


def test_bad_keys_are_refused_without_showing_them() -> None:
    with pytest.raises(ValueError, match="key 2 is not a Fernet key") as refused:
        load_settings(encryption_keys=f"{TEST_KEY},not-a-key-123")
    assert "not-a-key-123" not in str(refused.value)
    assert TEST_KEY not in str(refused.value)
    assert load_settings(encryption_keys=f" {NEXT_KEY} , {TEST_KEY}").encryption_keys == [
        NEXT_KEY,
        TEST_KEY,
    ]


def test_development_keeps_one_key_file_beside_the_database(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'db' / 'vekst.db'}")
    with caplog.at_level(logging.WARNING):
        sealed = KeyRing.for_settings(settings).seal("a secret")
    key_file = tmp_path / "db" / "encryption.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "VEKST_ENCRYPTION_KEYS is not set" in caplog.text
    assert str(key_file) in caplog.text
    assert key_file.read_text().strip() not in caplog.text
    # Another process (another ring) finds the same key.
    assert KeyRing.for_settings(settings).open(sealed) == "a secret"


def test_production_without_keys_refuses_to_encrypt_or_decrypt(tmp_path: Path) -> None:
    settings = load_settings(
        environment="production", database_url=f"sqlite:///{tmp_path / 'vekst.db'}"
    )
    keys = KeyRing.for_settings(settings)
    with pytest.raises(NotConfiguredError, match="VEKST_ENCRYPTION_KEYS is not set"):
        keys.seal("a secret")
    for stored in ("fernet:whatever", "http://stored-before-encryption.example/x"):
        with pytest.raises(NotConfiguredError):
            keys.open(stored)
    assert not (tmp_path / "encryption.key").exists()
