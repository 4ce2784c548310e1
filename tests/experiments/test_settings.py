"""The settings class: defaults, environment, and refusal of weak secrets in production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from experiments.settings import DEFAULT_DATABASE_URL, load_settings


def test_defaults_are_embedded() -> None:
    settings = load_settings()
    assert settings.database_url == DEFAULT_DATABASE_URL and settings.is_sqlite
    assert settings.redis_url is None and settings.admin_key is None


def test_environment_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VEKST_REDIS_URL", "redis://localhost:6379/0")
    monkeypatch.setenv("VEKST_CORS_ORIGINS", "https://a.example, https://b.example")
    settings = load_settings()
    assert settings.redis_url == "redis://localhost:6379/0"
    assert settings.cors_origins == ["https://a.example", "https://b.example"]


def test_weak_secret_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="at least 16 characters"):
        load_settings(environment="production", admin_key="short")
    assert load_settings(environment="development", admin_key="short").admin_key == "short"


def test_secrets_not_in_repr() -> None:
    assert "hunter2hunter2hunter2" not in repr(load_settings(admin_key="hunter2hunter2hunter2"))
