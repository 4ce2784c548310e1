"""Where a webhook may send: the URL rules, the address check, and how a URL is shown.

A webhook's host is resolved when the webhook is created and again before every attempt. Every
address it resolves to must be a public (global unicast) one, unless private targets are allowed
(`VEKST_WEBHOOK_ALLOW_PRIVATE_TARGETS`): loopback, private, link-local (169.254.169.254, the
cloud metadata service), multicast, reserved and unspecified addresses are refused, in IPv4 and
IPv6, also when written as `0x7f000001`, `2130706433`, `[::1]` or an IPv4-mapped IPv6 address
(the system resolver reads those forms the way a connection would). The sender then connects to
the address that was checked, so a name that resolves differently a moment later (DNS
rebinding) cannot redirect the attempt.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from experiments.models.webhook import url_rule_broken

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Resolves (host, port) to the addresses a connection could go to, as text; raises OSError when
# the name does not resolve. Injectable, so tests can answer as a rebinding DNS server would.
Resolver = Callable[[str, int], list[str]]

# Why a target was refused: the words a delivery stores as its error.
REFUSED_PRIVATE = "refused: private address"
HOST_NOT_FOUND = "host not found"
INVALID_URL = "invalid URL"

_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the well-known prefix embeds an IPv4 address


class TargetRefusedError(Exception):
    """The URL may not be sent to; `reason` is one of the words above."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the operating system's resolver gives for a TCP connection to host:port."""
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(sockaddr[0]) for *_, sockaddr in answers]


def parse_url(url: str) -> httpx.URL:
    """`url` as httpx reads it, once it keeps the rules of `url_rule_broken` (else INVALID_URL)."""
    if url_rule_broken(url) is not None:
        raise TargetRefusedError(INVALID_URL)
    return httpx.URL(url)


def is_public(address: IPAddress) -> bool:
    """Whether `address` is a global unicast address (an embedded IPv4 address is judged)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public(embedded)
        if address.teredo is not None:
            return all(is_public(part) for part in address.teredo)
    return address.is_global and not (address.is_multicast or address.is_reserved)


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    """Which addresses webhooks may reach, and the resolver that finds them."""

    allow_private: bool = False
    resolve: Resolver = field(default=system_resolver, repr=False)

    def address(self, url: httpx.URL) -> str:
        """The checked address to connect to for `url`: the first the resolver gives, once all
        of them passed the check. Raises `TargetRefusedError`."""
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            answers = [ipaddress.ip_address(answer) for answer in self.resolve(url.host, port)]
        except (OSError, UnicodeError, ValueError) as error:
            raise TargetRefusedError(HOST_NOT_FOUND) from error
        if not answers:
            raise TargetRefusedError(HOST_NOT_FOUND)
        if not self.allow_private and not all(is_public(answer) for answer in answers):
            raise TargetRefusedError(REFUSED_PRIVATE)
        return str(answers[0])

    def check(self, url: str) -> httpx.URL:
        """`url` parsed, once its syntax and every address of its host passed the rules."""
        parsed = parse_url(url)
        self.address(parsed)
        return parsed


def shown(url: str) -> str:
    """How a webhook URL is shown in listings, the audit log and messages: scheme and host only,
    as `https://hooks.slack.com/…` (the path and credentials may be secrets)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        return "…"
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    port = f":{parsed.port}" if parsed.port is not None else ""
    return f"{parsed.scheme}://{host}{port}/…"
