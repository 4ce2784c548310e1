"""Background polling of ``GET /v1/sdk/config`` with ETag / If-None-Match."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx

from vekst_sdk._errors import ConfigError
from vekst_sdk._http_status import refusal, unreachable
from vekst_sdk._logging import OnceLogger

CONFIG_PATH = "/v1/sdk/config"


class ConfigPoller:
    """Fetches the config now and every ``interval`` seconds on a daemon thread.

    Each new document is handed to ``on_config``; a 304 keeps the current one, and failures
    (network, HTTP errors, invalid documents) are logged once and keep the last good config.
    """

    def __init__(
        self,
        http: httpx.Client,
        log: OnceLogger,
        on_config: Callable[[Any], None],
        *,
        interval: float,
    ) -> None:
        self._http = http
        self._log = log
        self._on_config = on_config
        self._interval = interval
        self._etag: str | None = None
        self._stop = threading.Event()
        self.ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vekst-config", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # the polling thread must outlive any single failure
                self._log.error("vekst: unexpected error while loading the config", exc_info=True)
            self._stop.wait(self._interval)

    def poll_once(self) -> None:
        """Fetch the config once; on 200 apply it and remember its ETag."""
        headers = {"If-None-Match": self._etag} if self._etag else {}
        try:
            response = self._http.get(CONFIG_PATH, headers=headers)
        except httpx.HTTPError as error:
            url = self._http.build_request("GET", CONFIG_PATH).url
            self._log.error(f"vekst: could not fetch the config from {unreachable(error, url)}")
            return
        if response.status_code == 304:
            return
        if response.status_code != 200:
            self._log.error(f"vekst: config request failed ({refusal(response.status_code)})")
            return
        try:
            self._on_config(response.json())
        except (ValueError, ConfigError) as error:
            self._log.error(f"vekst: refused the config from the server: {error}")
            return
        self._etag = response.headers.get("etag")
        self.ready.set()

    def close(self, timeout: float) -> None:
        """Stop polling; waits at most ``timeout`` seconds for a request in flight."""
        self._stop.set()
        self._thread.join(timeout)
