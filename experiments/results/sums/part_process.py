"""One part of a look over every unit of an SQLite database, in an interpreter of its own
(`unit_parts`): reads the pickled job (the database's URL, the part, its range of units) on
standard input, writes the pickled rows and labels on standard output.

    python -m experiments.results.sums.part_process < job
"""

from __future__ import annotations

import contextlib
import pickle
import sys

from experiments.db import make_engine
from experiments.results.sums.unit_parts import PartResult


def main() -> None:
    """Run the job on standard input; anything else printed goes to standard error."""
    url, part, span = pickle.load(sys.stdin.buffer)  # noqa: S301 - from our parent process
    answer = sys.stdout.buffer
    with contextlib.redirect_stdout(sys.stderr):
        engine = make_engine(url)
        try:
            with engine.connect() as reader, reader.begin():
                rows, labels = part(reader, span)
                result: PartResult = ([dict(row) for row in rows], labels)
        finally:
            engine.dispose()
    pickle.dump(result, answer)
    answer.flush()


if __name__ == "__main__":
    main()
