"""What Vekst creates on disk is its owner's only, whatever the umask: the SQLite database's
folder 0700, the database and its -wal and -shm files 0600 (archives: test_retention)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text

from experiments.db import make_engine
from experiments.migrate import upgrade
from experiments.private_files import create_private_file
from tests.experiments.conftest import mode_of

pytestmark = pytest.mark.usefixtures("umask_022")


def test_a_new_sqlite_database_and_its_folder_are_private(tmp_path: Path) -> None:
    database = tmp_path / "data" / "vekst.db"
    upgrade(f"sqlite:///{database}")
    assert mode_of(tmp_path / "data") == 0o700 and mode_of(database) == 0o600
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.begin() as connection:  # WAL mode: -wal and -shm exist while connected
            connection.execute(text("CREATE TABLE probe (id INTEGER)"))
            wal, shm = (database.with_name(f"vekst.db-{end}") for end in ("wal", "shm"))
            assert mode_of(wal) == 0o600 and mode_of(shm) == 0o600
    finally:
        engine.dispose()


def test_an_existing_database_keeps_the_mode_its_owner_gave_it(tmp_path: Path) -> None:
    database = tmp_path / "shared.db"
    database.touch(mode=0o640)
    database.chmod(0o640)
    upgrade(f"sqlite:///{database}")
    assert mode_of(database) == 0o640


def test_a_private_file_is_new_and_never_follows_a_link(tmp_path: Path) -> None:
    os.umask(0o277)  # even a umask that would take the owner's write away
    with create_private_file(tmp_path / "new") as file:
        file.write(b"secret")
    assert mode_of(tmp_path / "new") == 0o600
    target = tmp_path / "elsewhere"
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(FileExistsError):
        create_private_file(tmp_path / "link")
    with pytest.raises(FileExistsError):
        create_private_file(tmp_path / "new")
    assert not target.exists() and (tmp_path / "new").read_bytes() == b"secret"
