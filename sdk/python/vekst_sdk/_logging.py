"""Logging that cannot flood a shop's logs from the request path."""

from __future__ import annotations

import logging
import threading

LOGGER_NAME = "vekst_sdk"
_MAX_REMEMBERED = 1000


class OnceLogger:
    """Logs each distinct message once; forgets everything after 1,000 messages.

    Forgetting (instead of refusing new messages) keeps memory bounded while still letting a
    recurring problem show up again later.
    """

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger(LOGGER_NAME)
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def _first_time(self, message: str) -> bool:
        with self._lock:
            if message in self._seen:
                return False
            if len(self._seen) >= _MAX_REMEMBERED:
                self._seen.clear()
            self._seen.add(message)
            return True

    def warning(self, message: str) -> None:
        """Log ``message`` at WARNING level unless it was already logged."""
        if self._first_time(message):
            self._logger.warning(message)

    def error(self, message: str, *, exc_info: bool = False) -> None:
        """Log ``message`` at ERROR level unless it was already logged."""
        if self._first_time(message):
            self._logger.error(message, exc_info=exc_info)
