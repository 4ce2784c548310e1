"""What a hostile webhook receiver costs the server: the shipped sender against a plain POST.

Run: `.venv/bin/python -m benchmarks.bench_webhook_receivers [--rounds 3]`

Two receivers on 127.0.0.1 (tests/experiments/webhooks/receivers.py):
1. `flood`: 200 OK announcing and sending a 300 MB body as fast as the client reads it.
2. `trickle_body`: a head announcing 10^12 bytes, then one byte a second (it never ends; the
   plain POST is cut here by the benchmark after `--drip-seconds`).

Each is posted to by `HttpSender` as shipped (one deadline per attempt, at most 4 KiB of the
answer read, the checked address pinned; private targets allowed for loopback) and, in the same
run, by `httpx.Client(timeout=10).post`, the sender before December 2026. For each the script
prints the median wall time, the bytes the receiver got out and the peak memory Python allocated
(tracemalloc) over `--rounds` rounds, and the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import threading
import time
import tracemalloc
from collections.abc import Callable

import httpx

from experiments.webhooks.sender import HttpSender
from experiments.webhooks.targets import TargetPolicy
from tests.experiments.webhooks.receivers import Answer, flood, running, trickle_body

Post = Callable[[str], object]


def shipped(url: str) -> object:
    sender = HttpSender(TargetPolicy(allow_private=True))
    try:
        return sender(url, b"{}", {"Content-Type": "application/json"})
    except Exception as error:  # the sender raises on a failed attempt; its words are stored
        return type(error).__name__


def plain(url: str) -> object:
    with httpx.Client(timeout=10) as client:
        try:
            return client.post(url, content=b"{}").status_code
        except httpx.HTTPError as error:
            return type(error).__name__


def measure(post: Post, answer: Answer, limit_seconds: float) -> tuple[float, int, int]:
    """(wall seconds, bytes the receiver sent, peak bytes allocated) of one attempt; the
    receiver is stopped after `limit_seconds` so a sender without a deadline ends too."""
    with running(answer) as receiver:
        stopper = threading.Timer(limit_seconds, receiver.stop.set)
        stopper.start()
        tracemalloc.start()
        started = time.perf_counter()
        post(receiver.url())
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        stopper.cancel()
        return elapsed, receiver.bytes_sent, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--drip-seconds", type=float, default=20.0)
    arguments = parser.parse_args()
    print(f"machine: {platform.machine()} cpus={os.cpu_count()} python={platform.python_version()}")
    print("| receiver | sender | wall s (median) | bytes the receiver sent | peak MB allocated |")
    print("|---|---|---|---|---|")
    cases: list[tuple[str, Answer, float]] = [
        ("flood 300 MB", flood, 60.0),
        ("1 byte a second", trickle_body, arguments.drip_seconds),
    ]
    for name, answer, limit in cases:
        for label, post in (("shipped", shipped), ("plain httpx.post", plain)):
            runs = [measure(post, answer, limit) for _ in range(arguments.rounds)]
            wall = statistics.median(run[0] for run in runs)
            sent = statistics.median(run[1] for run in runs)
            peak = statistics.median(run[2] for run in runs) / 1e6
            print(f"| {name} | {label} | {wall:.2f} | {sent:,.0f} | {peak:.1f} |")


if __name__ == "__main__":
    main()
