"""A part of a look (`unit_parts`) run on an SQLite file in an interpreter of its own, that
imports nothing but the standard library: it starts in about 30 ms, where one that imported the
look's modules took about 0.9 s. The look compiles the part's statements first
(`unit_parts.compile_part`); the child runs them in one transaction, on a connection of its own
to the same file, and answers the last statement's rows.

    python -m experiments.results.sums.sqlite_statements < job

The job (pickled): the file's path, the statements as (SQL, parameters), the pragmas to set.
The answer (pickled): the last statement's column names and rows.
"""

from __future__ import annotations

import contextlib
import pickle
import sqlite3
import sys
from typing import Any

BUSY_TIMEOUT_SECONDS = 30.0
"""As long as `experiments.db` waits for a lock (a reader waits only for a checkpoint)."""


def main() -> None:
    """Run the job on standard input; anything else printed goes to standard error."""
    path, statements, pragmas = pickle.load(sys.stdin.buffer)  # noqa: S301 - from our parent
    answer = sys.stdout.buffer
    with contextlib.redirect_stdout(sys.stderr):
        result = run(path, statements, pragmas)
    pickle.dump(result, answer)
    answer.flush()


def run(
    path: str, statements: list[tuple[str, tuple[Any, ...]]], pragmas: list[str]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The column names and rows of the last of `statements`, run in one transaction (rolled
    back: it writes only temporary tables) after `pragmas`."""
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    try:
        for pragma in pragmas:
            connection.execute(pragma)
        connection.execute("BEGIN")
        try:
            cursor = connection.cursor()
            for sql, parameters in statements:
                cursor.execute(sql, parameters)
            columns = [column[0] for column in cursor.description or ()]
            return columns, cursor.fetchall()
        finally:
            connection.execute("ROLLBACK")
    finally:
        connection.close()


if __name__ == "__main__":
    main()
