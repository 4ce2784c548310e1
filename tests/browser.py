"""Real headless Chromium for end-to-end tests of pages (the browser SDK, web pages).

Uses the system's Chromium (Debian's `chromium` package) through Playwright's
``executable_path``; Playwright's own browser downloads are never used. Where Chromium or
Playwright is missing the test is skipped with the reason, unless ``VEKST_REQUIRE_BROWSER=1``
(set by CI) turns that into a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Playwright

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: A desktop user agent without "Headless", for pages whose bot detection must not trigger.
DESKTOP_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36"
)
#: An init script that makes the automated browser look like a person's (navigator.webdriver).
HIDE_WEBDRIVER = "Object.defineProperty(Navigator.prototype, 'webdriver', {get: () => false});"


def browser_unavailable(reason: str) -> None:
    """Skip the test with ``reason``, or fail it when VEKST_REQUIRE_BROWSER=1."""
    if os.environ.get("VEKST_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (VEKST_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


def chromium_path() -> str:
    """The system Chromium (``VEKST_CHROMIUM`` or ``chromium`` on the PATH); skip without it."""
    path = os.environ.get("VEKST_CHROMIUM") or shutil.which("chromium")
    if path is None:
        browser_unavailable("Chromium is not installed (Debian: apt-get install chromium)")
    return str(path)


@contextmanager
def launch_chromium() -> Iterator[Browser]:
    """Yield a headless Chromium browser; skip (or fail under CI) when it cannot run here."""
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        browser_unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class _Shared:
    """The Chromium that `shared_chromium` lends out: one per test process, started when first
    asked for and closed at the end of the session (`close_shared_chromium`)."""

    manager: Any = None
    playwright: Playwright | None = None
    browser: Browser | None = None
    # Playwright's sync API marks its event loop as this thread's running loop between calls,
    # and `asyncio.run` refuses to start under a running loop; while the browser is not lent
    # out, the mark is put aside, so that the tests that follow can call `asyncio.run`.
    loop: asyncio.AbstractEventLoop | None = None


@contextmanager
def shared_chromium() -> Iterator[Browser]:
    """Like `launch_chromium`, but one browser serves every test of this process: a launch costs
    about 1 s of CPU and 3 s on this machine, and each test is isolated in contexts (and pages)
    of its own, all closed when it is done. A browser that crashed is launched again."""
    if _Shared.browser is None or not _Shared.browser.is_connected():
        close_shared_chromium()
        executable = chromium_path()
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            browser_unavailable("the playwright package is not installed (pip install -e '.[dev]')")
        _Shared.manager = sync_playwright()
        _Shared.playwright = _Shared.manager.__enter__()
        _Shared.browser = _Shared.playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS
        )
    else:
        asyncio._set_running_loop(_Shared.loop)  # see `_Shared.loop`
    browser = _Shared.browser
    before: list[BrowserContext] = list(browser.contexts)
    try:
        yield browser
    finally:
        for context in browser.contexts:
            if context not in before:
                context.close()
        _Shared.loop = asyncio._get_running_loop()
        asyncio._set_running_loop(None)


def close_shared_chromium() -> None:
    """Close the shared browser and its Playwright driver, if they were started."""
    browser, manager = _Shared.browser, _Shared.manager
    if browser is not None:
        asyncio._set_running_loop(_Shared.loop)  # as Playwright left it
    _Shared.manager = _Shared.playwright = _Shared.browser = _Shared.loop = None
    try:
        if browser is not None and browser.is_connected():
            browser.close()
    finally:
        if manager is not None:
            manager.__exit__(None, None, None)


@contextmanager
def serve_directory(
    root: Path, port: int, overrides: dict[str, bytes] | None = None
) -> Iterator[str]:
    """Serve ``root`` over HTTP on ``port`` (127.0.0.1); yield the base URL.

    ``overrides`` maps URL paths (``/example/settings.js``) to bodies served instead of files.
    """
    handler: Callable[..., Any] = partial(_QuietHandler, overrides or {}, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class _QuietHandler(SimpleHTTPRequestHandler):
    def __init__(self, overrides: dict[str, bytes], *args: Any, **kwargs: Any) -> None:
        self._overrides = overrides
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:  # noqa: N802 (the name http.server dispatches to)
        body = self._overrides.get(self.path.split("?")[0])
        if body is None:
            super().do_GET()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/javascript")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        del format, args
