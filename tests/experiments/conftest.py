"""Fixtures of the domain tests: a database session without HTTP or files."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

import experiments.models  # noqa: F401  (registers every table on SQLModel.metadata)


@pytest.fixture
def memory_session() -> Iterator[Session]:
    """A session on a fresh in-memory SQLite database holding every table."""
    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, under which a file made without an explicit mode is world-readable."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode_of(path: Path) -> int:
    """The permission bits of `path` (0o600 for a private file)."""
    return stat.S_IMODE(path.stat().st_mode)
