"""The request log: one line per request, written in batches because it sits on `/v1/assign`.

Going through `logging` (a LogRecord, the handler's lock, a flush per line) cost about a sixth
of the assign endpoint's time; here a line is formatted straight from its fields and lines are
written together, at most `MAX_WRITE_BYTES` per write (below the pipe size whose writes the
kernel keeps whole, so the lines of several worker processes sharing stderr never interleave
mid-line), at the latest `FLUSH_SECONDS` after they were logged, and at shutdown. The parts of
a line that repeat (the route's fields, the second) are formatted once.
"""

from __future__ import annotations

import asyncio
import os
import time
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
    hands them to `write` in batches of whole lines. Used from the event loop's thread only."""

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
        # The parts of a line that repeat: per (method, route, status), and per second.
        self._fixed: dict[tuple[str, str, int], bytes] = {}
        self._second = -1
        self._second_text = ""

    def record(self, request_id: str, method: str, route: str, status: int, seconds: float) -> None:
        """Log one answered request."""
        now = time.time()
        whole = int(now)
        if whole != self._second:
            self._second, self._second_text = whole, self._format_second(whole)
        stamp = f"{self._second_text}.{int((now - whole) * 1000):03d}"
        fixed = self._fixed.get((method, route, status))
        if fixed is None:
            fixed = self._fixed.setdefault(
                (method, route, status), self._fixed_part(method, route, status)
            )
        duration = f"{seconds * 1000:.3f}"
        if self._json:
            line = b"".join(
                (
                    b'{"time":"', stamp.encode(), b'Z",', fixed, b',"request_id":',
                    orjson.dumps(request_id), b',"duration_ms":', duration.encode(), b"}",
                )
            )  # fmt: skip
        else:
            line = b"".join(
                (stamp[11:].encode(), fixed, b" duration_ms=", duration.encode(),
                 b" request_id=", request_id.encode()),
            )  # fmt: skip
        if self._size + len(line) + 1 > MAX_WRITE_BYTES:
            self.flush()
        self._lines.append(line)
        self._size += len(line) + 1

    def flush(self) -> None:
        """Write the lines logged so far."""
        if not self._lines:
            return
        data = b"\n".join(self._lines) + b"\n"
        self._lines.clear()
        self._size = 0
        self._write(data)

    async def flush_periodically(self) -> None:
        """Flush every `FLUSH_SECONDS` until cancelled (then once more)."""
        try:
            while True:
                await asyncio.sleep(FLUSH_SECONDS)
                self.flush()
        finally:
            self.flush()

    def _format_second(self, second: int) -> str:
        if self._json:
            return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return datetime.fromtimestamp(second).strftime("%Y-%m-%dT%H:%M:%S")

    def _fixed_part(self, method: str, route: str, status: int) -> bytes:
        if not self._json:
            return f" info    {method} {route} {status} ".encode()
        fields = {
            "level": "info",
            "logger": LOGGER_NAME,
            "pid": self._pid,
            "message": f"{method} {route} {status}",
            "method": method,
            "route": route,
            "status": status,
        }
        return orjson.dumps(fields)[1:-1]
