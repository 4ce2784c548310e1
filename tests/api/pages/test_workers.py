"""A real `vekst serve --workers 2` keeps one page session across its worker processes, and
`--forwarded-allow-ips` decides whose X-Forwarded-Proto sets the cookie's `Secure` flag.

No VEKST_SESSION_SECRET and no VEKST_ADMIN_KEY, as after a first start: the workers must find
one session secret in the database. Two workers prove it as four did (a worker that made its own
secret refuses the other's cookie, and both must answer), for half the processes' start-up CPU
(about 2.5 s each); eight engines making the secret at once are `test_sessions.py`'s. Runs on
SQLite, so it needs no service and always runs.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from api.pages.sessions import COOKIE_NAME
from tests import local_http
from tests.accounts import PASSWORD, add_user, email_of, form_token
from tests.processes import free_port, logging_pids, vekst_process, wait_for_workers

PAGE_REQUESTS = 20
MAX_ROUNDS = 10


def _page_status(url: str, cookie: str) -> int:
    # A new connection each time (no keep-alive), so the requests spread over the workers.
    response = local_http.get(f"{url}/", cookies={COOKIE_NAME: cookie}, follow_redirects=False)
    return response.status_code


@pytest.mark.processes
def test_one_page_session_across_two_workers(sqlite_url: str, tmp_path: Path) -> None:
    add_user(sqlite_url, "viewer")
    port = free_port()
    # A proxy address that is not this test's: X-Forwarded-Proto from 127.0.0.1 is ignored.
    arguments = ["serve", "--port", str(port), "--workers", "2"]
    arguments += ["--forwarded-allow-ips", "192.0.2.1"]
    settings = {"VEKST_DATABASE_URL": sqlite_url, "VEKST_START_SCHEDULER": "false"}
    with vekst_process(arguments, settings, tmp_path, port) as server:
        wait_for_workers(server, 2)
        with httpx.Client(base_url=server.url) as browser:
            token = form_token(browser)
            login = browser.post(
                "/login",
                data={"email": email_of("viewer"), "password": PASSWORD, "csrf": token},
                headers={"X-Forwarded-Proto": "https"},
                follow_redirects=False,
            )
        assert login.status_code == 303, login.text
        assert "secure" not in login.headers["set-cookie"].lower()
        cookie = login.cookies[COOKIE_NAME]
        # The kernel may hand a burst to one worker: send rounds of requests until both workers
        # have answered (every answer must be the page).
        statuses: list[int] = []
        with ThreadPoolExecutor(4) as pool:
            for _ in range(MAX_ROUNDS):
                statuses += pool.map(
                    lambda _: _page_status(server.url, cookie), range(PAGE_REQUESTS)
                )
                if len(logging_pids(server.log, route="/")) >= 2:
                    break
        server.stop()
        assert statuses == [200] * len(statuses)
        assert len(logging_pids(server.log, route="/")) >= 2, server.log
