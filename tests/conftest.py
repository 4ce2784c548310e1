"""Shared fixtures: isolated environment, migrated SQLite and PostgreSQL databases, clients.

Each database is migrated once per run (per xdist worker) and handed to every test empty: SQLite
as a copy of a migrated file, PostgreSQL as one migrated schema truncated before each test. The
migrations themselves are proven by tests/experiments/test_migrations.py, on empty databases.

The fixtures import the service when first used: the process that hands the tests out to the
xdist workers loads this file too, and importing the app there (about 2 s) would delay every
worker's start.
"""

from __future__ import annotations

import atexit
import gc
import logging
import os
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import typer.testing
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests.browser import close_shared_chromium

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from experiments.settings import Settings
    from tests.services import MigratedPostgres

ADMIN_KEY = "test-admin-key-0123456789"
SDK_KEY = "test-sdk-key-0123456789"
_KEEP = ("VEKST_TEST_", "VEKST_REQUIRE_SERVICES", "VEKST_REQUIRE_BROWSER", "VEKST_CHROMIUM")

# Property tests judge answers, not speed: on a loaded CI machine a slow example is no failure.
hypothesis_settings.register_profile(
    "vekst", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
hypothesis_settings.load_profile("vekst")


# A test process holds a large heap (the app, every test module, hypothesis, scipy) and makes
# many short-lived objects: at Python's default thresholds (700, 10, 10) its collections of the
# oldest generation, each traversing that whole heap, took a sixth of the tests' CPU. Collections
# stay automatic, only rarer; `vekst serve` keeps the defaults (and freezes its startup heap).
gc.set_threshold(50_000, 20, 20)

# typer's CliRunner derives the command line from the app on every invoke (about 30 ms of
# introspection); `build_cli` returns one app per process, so its command line is derived once.
typer.testing._get_command = cache(typer.testing._get_command)  # type: ignore[attr-defined]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that start processes or a browser first, the rest in their usual order: these take
    seconds each, and run last they leave one xdist worker busy while the other has finished
    (`--dist worksteal` then shares out the many short tests that follow)."""
    items.sort(key=lambda item: not _starts_processes(item))


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker
        atexit.register(_leave_without_teardown)  # registered early, so it runs late


def pytest_sessionfinish() -> None:
    close_shared_chromium()


def _leave_without_teardown() -> None:
    """End an xdist worker once its own exit handlers have run, skipping the interpreter's
    teardown: its results are reported and its fixtures torn down by then, and freeing its heap
    object by object took about 2 s at the end of a full run, while the run waited for it."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _starts_processes(item: pytest.Item) -> bool:
    return any(item.get_closest_marker(name) for name in ("processes", "browser"))


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashes() -> None:
    """argon2id with one pass over 256 KiB: tests make many accounts, none needs real cost."""
    from experiments import passwords
    from tests.accounts import cheap_hasher

    passwords.use_hasher(cheap_hasher())


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No VEKST_* setting of the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("VEKST_") and not name.startswith(_KEEP):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the newest revision, once per run; tests get copies."""
    from experiments.migrate import upgrade

    path = tmp_path_factory.mktemp("migrated") / "vekst.db"
    upgrade(f"sqlite:///{path}")
    # Everything in the one file (no -wal beside it), so a copy of the file is the database.
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, migrated_sqlite_file: Path) -> str:
    """A migrated, empty SQLite file of this test's own (`tmp_path / "vekst.db"`, mode 0600)."""
    path = tmp_path / "vekst.db"
    shutil.copy(migrated_sqlite_file, path)
    return f"sqlite:///{path}"


@pytest.fixture(autouse=True, scope="session")
def postgres_engines() -> Iterator[None]:
    """One engine per PostgreSQL URL in this process (`tests.shared_engines`)."""
    from tests.shared_engines import shared_postgres_engines

    with shared_postgres_engines():
        yield


@pytest.fixture(scope="session")
def migrated_postgres() -> Iterator[MigratedPostgres]:
    """One PostgreSQL schema migrated once per run; see `postgres_url`."""
    from tests.services import MigratedPostgres, require_service

    schemas = MigratedPostgres(require_service("VEKST_TEST_POSTGRES_URL"))
    yield schemas
    schemas.close()


@pytest.fixture
def postgres_url(migrated_postgres: MigratedPostgres) -> str:
    """A migrated PostgreSQL schema with every table empty (truncated before this test)."""
    return migrated_postgres.empty()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty database: each test using it runs on SQLite and on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
def redis_url() -> str:
    from tests.services import require_service

    return require_service("VEKST_TEST_REDIS_URL")


@pytest.fixture
def settings(database_url: str) -> Settings:
    from experiments.settings import load_settings

    # No background looks or deliveries: tests take them explicitly, so they are deterministic.
    return load_settings(
        database_url=database_url, admin_key=ADMIN_KEY, sdk_key=SDK_KEY, start_scheduler=False
    )


@pytest.fixture
def cli_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The test's settings, with VEKST_DATABASE_URL set so `vekst` commands use its database."""
    monkeypatch.setenv("VEKST_DATABASE_URL", settings.database_url)
    return settings


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def openapi_document() -> dict[str, Any]:
    """The OpenAPI the app serves at /openapi.json: the same for every database and setting,
    so it is built once per test process (about 0.3 s of CPU a build). Read it, never change it."""
    from api.app import create_app
    from experiments.settings import load_settings

    app = create_app(load_settings(database_url="sqlite://", admin_key=ADMIN_KEY, sdk_key=SDK_KEY))
    return app.openapi()


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture
def sdk_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {SDK_KEY}"}


@pytest.fixture
def server_headers(database_url: str) -> dict[str, str]:
    """The header of a stored server-scoped key: the secret a shop's backend keeps."""
    from experiments.db import make_engine, session_scope
    from experiments.keys import create_key
    from experiments.models.api_key import KeyScope

    engine = make_engine(database_url)
    with session_scope(engine) as session:
        issued = create_key(session, KeyScope.SERVER, "shop backend")
    engine.dispose()
    assert issued.secret.startswith("vk_server_")
    return {"Authorization": f"Bearer {issued.secret}"}
