"""Which client a request comes from, for the per-client budget of the public routes.

The client is the socket peer, unless the peer is a trusted proxy and a client address header
is configured (`VEKST_CLIENT_IP_HEADER`, `VEKST_TRUSTED_PROXIES`). The header is then read from
the right: each proxy appends the address it was called from, so the right-most address that is
not a trusted proxy is the first one no trusted proxy can vouch for, and everything left of it
is the client's own claim, never believed. A header from any other peer is ignored.

IPv6 clients are grouped by their /64: one subscriber gets a whole /64 and can pick any address
in it, so a budget per IPv6 address would be a budget per request.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from starlette.types import Scope

from experiments.settings import Settings

Network = IPv4Network | IPv6Network
IpAddress = IPv4Address | IPv6Address
_CACHED_ADDRESSES = 4096


class ClientAddresses:
    """Names the client of a request: an IPv4 address, an IPv6 /64, or the peer as given."""

    def __init__(self, header: str | None, trusted: Sequence[Network]) -> None:
        self._header = header.lower().encode("latin-1") if header and trusted else None
        self._trusted = tuple(trusted)
        # Peers are few (the proxies) and each check is a scan of the networks: remember them.
        self._is_trusted = lru_cache(maxsize=_CACHED_ADDRESSES)(self._in_trusted)

    @classmethod
    def for_settings(cls, settings: Settings) -> ClientAddresses:
        return cls(settings.client_ip_header, settings.trusted_proxies)

    def of(self, scope: Scope) -> str:
        """The client of the request `scope` (an ASGI scope), as a bucket name."""
        peer = scope.get("client")
        address: str = peer[0] if peer else ""
        if self._header is None or not self._is_trusted(address):
            return client_name(address)
        hops = [v for name, v in scope["headers"] if name == self._header]
        if not hops:
            return client_name(address)
        return self._from_header(b",".join(hops).decode("latin-1"), address)

    def _from_header(self, forwarded: str, peer: str) -> str:
        # The walk stops at the first address no trusted proxy vouches for. An entry that is
        # no address (a proxy's mistake) ends it at the proxy that wrote it.
        vouched_by = peer
        for entry in reversed(forwarded.split(",")):
            parsed = _parse(entry)
            if parsed is None:
                break
            if not self._is_trusted(str(parsed)):
                return _name_of(parsed)
            vouched_by = str(parsed)
        return client_name(vouched_by)

    def _in_trusted(self, address: str) -> bool:
        parsed = _parse(address)
        return parsed is not None and any(parsed in network for network in self._trusted)


@lru_cache(maxsize=_CACHED_ADDRESSES)
def client_name(address: str) -> str:
    """The bucket name of a peer address: IPv4 as it is, IPv6 as its /64, anything else (a
    test client, a Unix socket's empty peer) as it is."""
    if ":" not in address:
        return address
    parsed = _parse(address)
    return address if parsed is None else _name_of(parsed)


def _name_of(address: IpAddress) -> str:
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(IPv6Network((address, 64), strict=False))
    return str(address)


def _parse(entry: str) -> IpAddress | None:
    """An address as proxies write it: `1.2.3.4`, `2001:db8::1`, with a port (`1.2.3.4:80`,
    `[2001:db8::1]:80`) or not; None for anything else."""
    text = entry.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return ip_address(text)
    except ValueError:
        return None
