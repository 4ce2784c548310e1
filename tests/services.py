"""Access to the real PostgreSQL and Redis used by integration tests.

Tests that need them read VEKST_TEST_POSTGRES_URL / VEKST_TEST_REDIS_URL and skip with a visible
reason when unset; VEKST_REQUIRE_SERVICES=1 (set by CI) turns that skip into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text


def require_service(variable: str) -> str:
    value = os.environ.get(variable)
    if value:
        return value
    reason = f"{variable} is not set; this test needs the real service"
    if os.environ.get("VEKST_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (VEKST_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@contextmanager
def fresh_postgres_schema(base_url: str) -> Iterator[str]:
    """A URL whose connections use a new, empty schema, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
