"""The real sender: one checked, pinned, bounded POST per attempt.

- The host is resolved and checked (`targets.TargetPolicy`) and the connection goes to that
  address, while the Host header, TLS SNI and certificate check keep the host's name.
- The whole attempt (resolving, connecting, sending, the answer's head) ends by one deadline,
  however slowly the receiver trickles bytes; the resolver runs in a thread left behind if the
  deadline passes.
- At most `max_answer_bytes` of the answer are read (streamed), then the connection is closed.
- Redirects are not followed, and no proxy from the environment is used (it would not be pinned).

What went wrong is told in words (`error_words`), never with exception text, which could echo
the URL or tell a scanner more than it should learn.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

import anyio.to_thread
import httpx

from experiments.webhooks.targets import INVALID_URL, TargetPolicy, TargetRefusedError, parse_url

ATTEMPT_SECONDS = 10.0  # the deadline of one whole attempt
ANSWER_BYTES = 4096  # read of an answer, at most (only its status is used)

# The words a delivery's `error` holds besides `targets`' refusals and `HTTP <status>`.
TIMED_OUT = "timed out"
CONNECTION_FAILED = "connection failed"
ATTEMPT_FAILED = "attempt failed"


def error_words(error: BaseException) -> str:
    """What a failed attempt stores and shows: a few words, never the exception's text."""
    if isinstance(error, TargetRefusedError):
        return error.reason
    if isinstance(error, TimeoutError | httpx.TimeoutException):
        return TIMED_OUT
    if isinstance(error, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return INVALID_URL
    if isinstance(error, httpx.TransportError | OSError):
        return CONNECTION_FAILED
    return ATTEMPT_FAILED


@cache
def default_trust() -> ssl.SSLContext:
    """httpx's certificate check (its CA bundle, no SSL_* variables from the environment), built
    once per process: building it reads the whole bundle, about 20 ms of CPU, which every
    attempt paid when each client built its own."""
    return httpx.create_ssl_context(trust_env=False)


@dataclass(frozen=True, slots=True)
class HttpSender:
    """Posts a body to a checked address of a URL's host; returns the HTTP status or raises."""

    targets: TargetPolicy = field(default_factory=TargetPolicy)
    deadline_seconds: float = ATTEMPT_SECONDS
    max_answer_bytes: int = ANSWER_BYTES
    # The certificate authorities https receivers are checked against (default: httpx's).
    trusted: ssl.SSLContext | None = field(default=None, repr=False)

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        return asyncio.run(self._post(url, body, headers))

    async def _post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        target = parse_url(url)
        async with asyncio.timeout(self.deadline_seconds):
            address = await anyio.to_thread.run_sync(
                self.targets.address, target, abandon_on_cancel=True
            )
            pinned = target.copy_with(host=address)
            request_headers = {**headers, "Host": target.netloc.decode("ascii")}
            async with httpx.AsyncClient(
                follow_redirects=False,
                trust_env=False,
                timeout=self.deadline_seconds,
                verify=self.trusted or default_trust(),
            ) as client:
                request = client.build_request(
                    "POST",
                    pinned,
                    content=body,
                    headers=request_headers,
                    extensions={"sni_hostname": target.host},
                )
                response = await client.send(request, stream=True)
                try:
                    await self._read_some(response)
                finally:
                    await response.aclose()
                return response.status_code

    async def _read_some(self, response: httpx.Response) -> None:
        read = 0
        async for chunk in response.aiter_raw():
            read += len(chunk)
            if read >= self.max_answer_bytes:
                return
