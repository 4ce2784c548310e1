"""Waiting for what another thread or process does: poll a condition, never sleep a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(
    condition: Callable[[], object],
    seconds: float = 5.0,
    what: str = "the condition",
    every: float = 0.01,
) -> float:
    """Call `condition` every `every` seconds until it returns a true value; return the seconds
    that took. Fails the test (AssertionError naming `what`) once `seconds` have passed."""
    started = time.monotonic()
    while not condition():
        waited = time.monotonic() - started
        if waited > seconds:
            raise AssertionError(f"gave up waiting for {what} after {seconds} s")
        time.sleep(every)
    return time.monotonic() - started
