"""`get` and `post` as httpx's, for tests talking to the servers they start.

Each `httpx.get` or `httpx.post` builds a client, and each client a TLS context from the CA
bundle: about 20 ms of CPU per call, though these servers speak plain HTTP. These build their
client on one context made once per process (under 1 ms per call); each call still has a
client, and so a connection and a cookie jar, of its own.
"""

from __future__ import annotations

import ssl
from functools import cache
from typing import Any

import httpx


@cache
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


def get(url: str, **options: Any) -> httpx.Response:
    return httpx.get(url, verify=_tls(), **options)


def post(url: str, **options: Any) -> httpx.Response:
    return httpx.post(url, verify=_tls(), **options)
