"""The settings class: defaults, environment, and refusal of weak secrets in production."""

from __future__ import annotations

import logging

import pytest
from pydantic import ValidationError

from experiments.settings import DEFAULT_DATABASE_URL, Settings, load_settings


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


def test_a_misspelt_override_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match=r"unknown setting 'databse_url' \(did you mean "):
        load_settings(databse_url="sqlite://")
    with pytest.raises(TypeError, match="unknown setting 'colour'$"):
        load_settings(colour="blue")


def test_settings_built_directly_refuse_an_unknown_field() -> None:
    with pytest.raises(ValidationError, match="databse_url"):
        Settings(databse_url="sqlite://")  # type: ignore[call-arg]


def test_a_misspelt_variable_is_warned_of(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("VEKST_DATABSE_URL", "sqlite://")
    monkeypatch.setenv("VEKST_TEST_ROUNDS", "3")  # a tool's own variable, far from any setting
    with caplog.at_level(logging.WARNING, logger="experiments.settings"):
        settings = load_settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert [record.getMessage() for record in caplog.records] == [
        "VEKST_DATABSE_URL is not a setting and is ignored (did you mean VEKST_DATABASE_URL?)"
    ]
