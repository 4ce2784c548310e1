"""What a login costs: one argon2id check with Vekst's parameters (`experiments.passwords`)
against argon2-cffi's default (RFC 9106's second recommendation), alternating in one run,
medians of `--runs` each.

    .venv/bin/python -m benchmarks.bench_passwords --runs 15
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

from argon2 import PasswordHasher

from experiments.passwords import vekst_hasher

PASSWORD = "seven lilac otters sing"


def check_ms(hasher: PasswordHasher, stored: str) -> float:
    began = time.perf_counter()
    hasher.verify(stored, PASSWORD)
    return 1000 * (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    options = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, {platform.python_version()}")
    ours, default = vekst_hasher(), PasswordHasher()
    stored = {"vekst": ours.hash(PASSWORD), "default": default.hash(PASSWORD)}
    times: dict[str, list[float]] = {"vekst": [], "default": []}
    for _ in range(options.runs):
        times["vekst"].append(check_ms(ours, stored["vekst"]))
        times["default"].append(check_ms(default, stored["default"]))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print("parameters                        check ms")
    print(f"vekst   (19 MiB, 2 passes, 1 lane)  {medians['vekst']:>7.1f}")
    print(f"default (64 MiB, 3 passes, 4 lanes) {medians['default']:>7.1f}")
    print(f"ratio default / vekst: {medians['default'] / medians['vekst']:.1f}")


if __name__ == "__main__":
    main()
