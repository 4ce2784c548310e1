"""Checks the config's experiments and holdouts share."""

from __future__ import annotations

from typing import TypeGuard

from vekst_sdk._errors import ConfigError

MAX_SALT_LENGTH = 64


def is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def require_key_string(value: object, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(path, "must be a non-empty string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError(path, "must be valid Unicode (no lone surrogates)") from None
    return value


def validate_salt(salt: object, path: str) -> None:
    """An experiment's or a holdout's salt: 1-64 characters without ':'."""
    text = require_key_string(salt, path)
    if ":" in text or len(text) > MAX_SALT_LENGTH:
        raise ConfigError(
            path, f"must be a non-empty string of at most {MAX_SALT_LENGTH} characters without ':'"
        )
