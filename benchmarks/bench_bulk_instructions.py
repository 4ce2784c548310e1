"""Count the machine instructions `stats.analyze_many` runs per comparison, under valgrind's
cachegrind: a figure the load of a shared machine does not move (its CPU times vary twofold),
to set beside the CPU times of `benchmarks.bench_stats`.

Run from the repository root (valgrind installed; two to three minutes):
python -m benchmarks.bench_bulk_instructions [--before COMMIT] [--functions N]

- `analyze_many`: the breakdown-shaped look of `bench_stats` (1,000 two-arm comparisons), in a
  child interpreter under cachegrind, once with one call and once with five: the difference over
  four calls and 1,000 comparisons is the count per comparison (start-up and imports cancel out).
  The same for the `stats` package of COMMIT (default: main before this round's work).
- The result objects alone: building a two-arm analysis's objects (`stats._bulk_objects`) from
  1,000 ready columns of fresh floats, the garbage collection their allocation sets off, and
  freeing them; what any bulk path that returns these types pays, whatever it computes.

- With ``--functions N``: this tree's count per comparison split by the C function that ran it
  (the N largest; valgrind's ``cg_diff`` of the two runs, read by ``cg_annotate``). Python code
  is all in the interpreter's loop (``_PyEval_EvalFrameDefault``); what it calls is by name.

One thread for the BLAS libraries and a fixed hash seed: the counts repeat to the instruction.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.bench_stats import ROOT, _before_tree

BEFORE = "c1b42ab"  # main before the third round on the bulk path (issue 27, item 3)
CALLS = 4

_LOOK = """
import sys
sys.path.append(sys.argv[1])
import stats
from benchmarks.bench_stats import OPTIONS, look_analyses
analyses = look_analyses()
for _ in range(1 + int(sys.argv[2])):
    stats.analyze_many(analyses, OPTIONS)
"""

_OBJECTS = """
import gc, random, sys
from itertools import repeat, starmap
import numpy as np
from stats import _bulk_objects as objects
from stats.types import StatisticsKind
random.seed(7)
columns = [np.array([random.random() for _ in range(1000)]) for _ in range(19)]
def build():
    gc.disable()
    f = [column.tolist() for column in columns]
    results = list(starmap(objects.two_arms, zip(repeat(StatisticsKind.PROPORTION), repeat(0.05),
        repeat("control"), repeat("treatment"), repeat(5000), repeat(5000), f[15], f[16],
        repeat(None), repeat(None), repeat(None), repeat(None), f[17], repeat(False),
        objects.intervals(f[0], f[2], f[3]), objects.intervals(f[1], f[4], f[5]), f[6], f[6],
        repeat(True), f[7], objects.intervals(f[0], f[8], f[9]),
        objects.intervals(f[1], f[10], f[11]), repeat(False), f[12], f[13], f[14], repeat(None),
        repeat(None))))
    gc.enable()
    gc.collect(0)  # what the first allocation after analyze_many sets off
    del results
for _ in range(1 + int(sys.argv[2])):
    build()
"""


def _instructions(code: str, calls: int, path: Path | None, into: str = "/dev/null") -> int:
    """Instructions of the child running ``code`` with ``calls`` extra calls; cachegrind's
    counts by function are written ``into`` that file."""
    # No bytecode written: else the first child compiles a fresh tree (the "before") and the
    # second reads it, and the compilation lands in the difference (twice the count).
    env = dict(
        os.environ,
        PYTHONHASHSEED="0",
        OPENBLAS_NUM_THREADS="1",
        OMP_NUM_THREADS="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    if path is not None:
        env["PYTHONPATH"] = str(path)
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={into}"]
    # One line of code: cachegrind copies the command into its file's header, which a line
    # break would end early.
    one_line = f"exec({code!r})"
    command += [sys.executable, "-P", "-c", one_line, str(ROOT), str(calls)]
    output = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stderr
    found = re.search(r"I\s+refs:\s+([\d,]+)", output)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{output}")
    return int(found.group(1).replace(",", ""))


def per_comparison(code: str, path: Path | None) -> int:
    return (_instructions(code, CALLS, path) - _instructions(code, 0, path)) // (CALLS * 1000)


def by_function(code: str, top: int) -> list[tuple[int, str]]:
    """The ``top`` C functions by instructions per comparison of ``code`` in this tree."""
    with tempfile.TemporaryDirectory() as directory:
        runs = [str(Path(directory, f"{calls}.out")) for calls in (0, CALLS)]
        for calls, into in zip((0, CALLS), runs, strict=True):
            _instructions(code, calls, ROOT, into)
        # Into a file: cg_diff exits with an error (errno 25) when its output is a pipe.
        difference = Path(directory, "difference.out")
        with difference.open("w") as output:
            subprocess.run(["cg_diff", *runs], check=True, stdout=output)
        annotated = subprocess.run(
            ["cg_annotate", "--auto=no", str(difference)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    found: list[tuple[int, str]] = []
    for line in annotated.splitlines():
        row = re.match(r"\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(\S+):(.+)", line)
        if row is not None and "PROGRAM TOTALS" not in line:
            source, function = row.group(2).rsplit("/", 1)[-1], row.group(3)[:60]
            found.append(
                (int(row.group(1).replace(",", "")) // (CALLS * 1000), f"{source}:{function}")
            )
    return found[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", default=BEFORE)
    parser.add_argument("--functions", type=int, default=0, metavar="N")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed")
    if args.functions:
        print("instructions per comparison of analyze_many by C function (this tree):")
        for count, name in by_function(_LOOK, args.functions):
            print(f"  {count:6,d}  {name}")
        return
    with tempfile.TemporaryDirectory() as directory:
        before = per_comparison(_LOOK, _before_tree(args.before, Path(directory)))
    after = per_comparison(_LOOK, ROOT)
    objects = per_comparison(_OBJECTS, ROOT)
    print("instructions per comparison (cachegrind), the look of bench_stats:")
    print(f"  analyze_many before ({args.before}): {before:7,d}")
    print(
        f"  analyze_many after:                {after:7,d}   before / after {before / after:.2f}x"
    )
    print(f"  its result objects alone:          {objects:7,d}   ({objects / after:.0%} of after)")


if __name__ == "__main__":
    main()
