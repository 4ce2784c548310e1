"""The request log: one line per request, written in batches because it sits on `/v1/assign`.

Going through `logging` (a LogRecord, the handler's lock, a flush per line) cost about a sixth
of the assign endpoint's time; here a line is formatted straight from its fields and lines are
written together, at most `MAX_WRITE_BYTES` per write (below the pipe size whose writes the
kernel keeps whole, so the lines of several worker processes sharing stderr never interleave
mid-line), at the latest `FLUSH_SECONDS` after they were logged, and at shutdown.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

import orjson

MAX_WRITE_BYTES = 4096  # PIPE_BUF on Linux: a write this small to a pipe is never split
FLUSH_SECONDS = 0.5
LOGGER_NAME = "vekst.requests"


def write_stderr(data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(2, view) :]


class RequestLog:
    """Formats request lines as JSON (the fields of `logs.JsonLines`) or for a terminal, and
    hands them to `write` in batches of whole lines."""

    def __init__(
        self,
        log_format: Literal["json", "human"],
        write: Callable[[bytes], None] = write_stderr,
    ) -> None:
        self._json = log_format == "json"
        self._write = write
        self._pid = os.getpid()
        self._lines: list[bytes] = []
        self._size = 0
        self._lock = threading.Lock()

    def record(self, request_id: str, method: str, route: str, status: int, seconds: float) -> None:
        """Log one answered request."""
        moment = datetime.now(UTC)
        duration_ms = round(seconds * 1000, 3)
        if self._json:
            line = orjson.dumps(
                {
                    "time": moment.isoformat(timespec="milliseconds"),
                    "level": "info",
                    "logger": LOGGER_NAME,
                    "pid": self._pid,
                    "message": f"{method} {route} {status}",
                    "request_id": request_id,
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": duration_ms,
                }
            )
        else:
            clock = moment.astimezone().strftime("%H:%M:%S.%f")[:-3]
            line = (
                f"{clock} info    {method} {route} {status}  "
                f"duration_ms={duration_ms} request_id={request_id}"
            ).encode()
        with self._lock:
            if self._size + len(line) + 1 > MAX_WRITE_BYTES:
                self._flush_locked()
            self._lines.append(line)
            self._size += len(line) + 1

    def flush(self) -> None:
        """Write the lines logged so far."""
        with self._lock:
            self._flush_locked()

    async def flush_periodically(self) -> None:
        """Flush every `FLUSH_SECONDS` until cancelled (then once more)."""
        try:
            while True:
                await asyncio.sleep(FLUSH_SECONDS)
                self.flush()
        finally:
            self.flush()

    def _flush_locked(self) -> None:
        if not self._lines:
            return
        data = b"\n".join(self._lines) + b"\n"
        self._lines.clear()
        self._size = 0
        self._write(data)
