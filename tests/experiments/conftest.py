"""Fixtures of the domain tests: a database session without HTTP or files."""

from __future__ import annotations

from collections.abc import Iterator

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
