"""The workspace tests' app: webhooks to 127.0.0.1 allowed, and a browser logged in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from experiments.settings import Settings, load_settings
from tests.accounts import log_in
from tests.conftest import ADMIN_KEY, SDK_KEY
from tests.experiments.webhooks.helpers import TEST_KEY


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Webhooks to 127.0.0.1 allowed (the tests have no other host), secrets encrypted."""
    return load_settings(
        database_url=database_url,
        admin_key=ADMIN_KEY,
        sdk_key=SDK_KEY,
        start_scheduler=False,
        webhook_allow_private_targets=True,
        encryption_keys=TEST_KEY,
    )


@pytest.fixture
def editor(settings: Settings) -> Iterator[TestClient]:
    """A browser logged in as a user with the editor role."""
    with TestClient(create_app(settings)) as client:
        log_in(client, "editor")
        yield client


@pytest.fixture
def admin(settings: Settings) -> Iterator[TestClient]:
    """A browser logged in as a user with the admin role (keys and webhooks need it)."""
    with TestClient(create_app(settings)) as client:
        log_in(client, "admin")
        yield client
