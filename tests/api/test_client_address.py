"""Which client a request is charged to: the socket peer, or a trusted proxy's header read from
the right; never what the client claims itself."""

from __future__ import annotations

from ipaddress import ip_network

import pytest
from pydantic import ValidationError

from api.client_address import ClientAddresses, client_name
from experiments.settings import load_settings

PROXIES = [ip_network("10.0.0.0/8"), ip_network("2001:db8:ffff::/48")]


def scope(peer: str | None, *forwarded: str) -> dict[str, object]:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return {"type": "http", "client": None if peer is None else (peer, 1234), "headers": headers}


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("198.51.100.9", (), "198.51.100.9"),
        ("198.51.100.9", ("192.0.2.1",), "198.51.100.9"),  # not a proxy: its claim is ignored
        ("10.1.2.3", (), "10.1.2.3"),  # a proxy's request without the header
        ("10.1.2.3", ("192.0.2.1",), "192.0.2.1"),
        ("10.1.2.3", ("192.0.2.1, 198.51.100.9",), "198.51.100.9"),  # right-most untrusted
        ("10.1.2.3", ("192.0.2.1, 198.51.100.9, 10.9.9.9",), "198.51.100.9"),  # proxy chain
        ("10.1.2.3", ("192.0.2.1", "198.51.100.9"), "198.51.100.9"),  # two header lines
        ("10.1.2.3", ("10.0.0.5, 10.0.0.6",), "10.0.0.5"),  # all proxies: the first of them
        ("10.1.2.3", ("192.0.2.1, junk",), "10.1.2.3"),  # no address: the proxy that wrote it
        ("10.1.2.3", ("198.51.100.9:4711",), "198.51.100.9"),
        ("10.1.2.3", ("[2001:db8:1:2::7]:443",), "2001:db8:1:2::/64"),
        ("2001:db8:ffff::1", ("2001:db8:1:2:aaaa::1",), "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", (), "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.9", (), "198.51.100.9"),
        (None, ("192.0.2.1",), ""),  # a Unix socket has no peer address
    ],
)
def test_the_client_of_a_request(peer: str | None, forwarded: tuple[str, ...], client: str) -> None:
    addresses = ClientAddresses("X-Forwarded-For", PROXIES)
    assert addresses.of(scope(peer, *forwarded)) == client


def test_without_a_header_setting_the_peer_is_the_client() -> None:
    addresses = ClientAddresses.for_settings(load_settings(trusted_proxies="10.0.0.1"))
    assert addresses.of(scope("10.0.0.1", "192.0.2.1")) == "10.0.0.1"


def test_ipv6_peers_are_named_by_their_64() -> None:
    assert client_name("2001:db8:1:2:3:4:5:6") == client_name("2001:db8:1:2::9")
    assert client_name("2001:db8:1:2::9") != client_name("2001:db8:1:3::9")
    assert client_name("testclient") == "testclient"


def test_proxy_settings_are_parsed_and_checked() -> None:
    settings = load_settings(
        client_ip_header="X-Real-IP", trusted_proxies=" 10.0.0.1, 172.16.0.0/12 ,2001:db8::/32"
    )
    assert [str(n) for n in settings.trusted_proxies] == [
        "10.0.0.1/32",
        "172.16.0.0/12",
        "2001:db8::/32",
    ]
    with pytest.raises(ValidationError, match="VEKST_TRUSTED_PROXIES"):
        load_settings(client_ip_header="X-Forwarded-For")
    with pytest.raises(ValidationError, match="'10.0.0.300' is not an IP address"):
        load_settings(trusted_proxies="10.0.0.300")
    with pytest.raises(ValidationError, match="client_ip_header"):
        load_settings(client_ip_header="X Forwarded", trusted_proxies="10.0.0.1")
