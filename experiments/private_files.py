"""Folders and files only their owner may read: event archives, the SQLite database, the
first-start keys.

Archives hold unit ids and event properties, the database holds webhook secrets, so what Vekst
creates gets its mode set explicitly, whatever the umask: folders 0700, files 0600. A folder or
file that already exists keeps the mode its owner gave it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

PRIVATE_FOLDER_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private_folders(folder: Path) -> None:
    """Create `folder` and each missing parent as 0700; folders already there are left alone."""
    missing = []
    for path in (folder, *folder.parents):
        if path.is_dir():
            break
        missing.append(path)
    for path in reversed(missing):
        try:
            path.mkdir(mode=PRIVATE_FOLDER_MODE)
        except FileExistsError:
            continue  # made meanwhile by another process: its mode is not ours to change
        os.chmod(path, PRIVATE_FOLDER_MODE)  # mkdir's mode is cut by the umask


def create_private_file(path: Path) -> BinaryIO:
    """A new file at `path`, 0600, open for binary writing. Raises FileExistsError when
    anything is at `path` already: an existing file is never truncated, a link never followed."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    try:
        os.fchmod(descriptor, PRIVATE_FILE_MODE)
        return os.fdopen(descriptor, "wb")
    except BaseException:
        os.close(descriptor)
        raise


def ensure_private_file(path: Path) -> None:
    """Create an empty 0600 file at `path` unless something is there already."""
    try:
        create_private_file(path).close()
    except FileExistsError:
        pass
