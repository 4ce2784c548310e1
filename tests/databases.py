"""Which databases a test runs on.

`database_url` (tests/conftest.py) runs a test on SQLite and on PostgreSQL. Where the database
plays no part in what a test proves (HTTP semantics, validation before anything is stored, which
route hands what to whom), `@sqlite_only` runs it once; tests of storage keep both.
"""

from __future__ import annotations

import pytest

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
