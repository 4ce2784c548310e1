"""The database of the commands that work on it directly (`vekst results`, `keys`, `history`,
...): one helper opens it, closes it, and turns what goes wrong into a message and exit 1.

They read VEKST_DATABASE_URL directly. A URL that points nowhere must say which URL was tried
and how to set it, and must not leave an empty SQLite file behind.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from sqlalchemy import inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from experiments.db import make_engine, session_scope
from experiments.errors import VekstError
from experiments.models.experiment import Experiment
from experiments.settings import Settings, load_settings

HOW_TO_SET = (
    "Run the command in the folder where `make run` created ./data/vekst.db, or set "
    "VEKST_DATABASE_URL (e.g. VEKST_DATABASE_URL=postgresql+psycopg://user@host/db)."
)


class DatabaseUnavailableError(Exception):
    """The database of VEKST_DATABASE_URL cannot be read; the message says what was tried."""


@contextmanager
def local_engine(settings: Settings | None = None) -> Iterator[Engine]:
    """The engine of the settings' database (default: the environment's), disposed at the end.

    A database that cannot be read, or a domain error raised in the block, is printed and the
    command exits with status 1.
    """
    url = (settings if settings is not None else load_settings()).database_url
    try:
        with _checked_engine(url) as engine:
            yield engine
    except VekstError as error:
        typer.echo(error.detail, err=True)
        raise typer.Exit(1) from error
    except DatabaseUnavailableError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from error


@contextmanager
def local_session(settings: Settings | None = None) -> Iterator[Session]:
    """A session on `local_engine`'s database: committed after the block, rolled back on error."""
    with local_engine(settings) as engine, session_scope(engine) as session:
        yield session


@contextmanager
def _checked_engine(database_url: str) -> Iterator[Engine]:
    url = make_url(database_url)
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        if not Path(str(url.database)).is_file():
            raise DatabaseUnavailableError(f"No Vekst database at {shown}. {HOW_TO_SET}")
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        try:
            with engine.connect() as connection:
                tables = set(inspect(connection).get_table_names())
        except SQLAlchemyError as error:
            reason = str(error.__cause__ or error).strip().splitlines()[0]
            raise DatabaseUnavailableError(
                f"Could not reach the database at {shown} ({reason}). {HOW_TO_SET}"
            ) from error
        if "experiments" not in tables:
            raise DatabaseUnavailableError(
                f"The database at {shown} has no Vekst tables; run `vekst db upgrade` first, or "
                f"point VEKST_DATABASE_URL at the right database."
            )
        yield engine
    finally:
        engine.dispose()


def require_experiment(session: Session, key: str) -> Experiment:
    """The experiment `key`; when there is none, say which database was searched and which of
    its keys come closest (a typo such as `checkout-onepag`), and exit with status 1."""
    experiment = session.exec(select(Experiment).where(Experiment.key == key)).first()
    if experiment is not None:
        return experiment
    keys = list(session.exec(select(Experiment.key).order_by(col(Experiment.key))))
    shown = session.get_bind().engine.url.render_as_string(hide_password=True)
    message = f"no experiment with key '{key}' in the database at {shown}."
    closest = difflib.get_close_matches(key, keys, n=3, cutoff=0.6)
    if closest:
        message += " Did you mean " + " or ".join(f"'{found}'" for found in closest) + "?"
    elif keys:
        message += " `vekst experiments` lists its experiments."
    else:
        message += " It has no experiments yet; is VEKST_DATABASE_URL the server's database?"
    typer.echo(message, err=True)
    raise typer.Exit(1)
