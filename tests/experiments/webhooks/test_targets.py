"""Which webhook targets are refused: the URL rules and the address check (finding 1)."""

from __future__ import annotations

import ipaddress

import pytest

from experiments.models.webhook import url_rule_broken
from experiments.webhooks.targets import (
    HOST_NOT_FOUND,
    INVALID_URL,
    REFUSED_PRIVATE,
    TargetPolicy,
    TargetRefusedError,
    is_public,
    shown,
)

# Each is read by the system resolver exactly as a connection would read it.
NON_PUBLIC = [
    "http://127.0.0.1:8931/v1/experiments",
    "http://0x7f000001:8931/",
    "http://2130706433/",
    "http://127.1/",
    "http://localhost/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://[::]/",
    "http://224.0.0.1/",
    "http://239.1.1.1/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[ff02::1]/",
    "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "https://192.0.2.10/",  # documentation range
]


@pytest.mark.parametrize("url", NON_PUBLIC)
def test_non_public_targets_are_refused_unless_allowed(url: str) -> None:
    with pytest.raises(TargetRefusedError) as refused:
        TargetPolicy().check(url)
    assert refused.value.reason == REFUSED_PRIVATE
    assert TargetPolicy(allow_private=True).check(url).host


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "8.8.8.8", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
)
def test_public_addresses_pass(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))
    host = f"[{address}]" if ":" in address else address
    assert TargetPolicy().check(f"https://{host}/hook").host == address


def test_one_non_public_answer_among_public_ones_refuses_the_name() -> None:
    def mixed(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "10.0.0.7"]

    with pytest.raises(TargetRefusedError) as refused:
        TargetPolicy(resolve=mixed).check("https://hooks.example.com/x")
    assert refused.value.reason == REFUSED_PRIVATE


def test_a_name_that_does_not_resolve_is_refused() -> None:
    def nothing(host: str, port: int) -> list[str]:
        raise OSError("no such name")

    with pytest.raises(TargetRefusedError) as refused:
        TargetPolicy(resolve=nothing).check("https://hooks.example.com/x")
    assert refused.value.reason == HOST_NOT_FOUND


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://[zz]/", "is not a valid URL"),
        ("http://u:p@hooks.example.com/x", "must not hold credentials"),
        ("http://user@hooks.example.com/x", "must not hold credentials"),
        ("ftp://hooks.example.com/x", "must be an absolute http"),
        ("gopher://hooks.example.com/", "must be an absolute http"),
        ("https:///path-only", "must be an absolute http"),
        ("https://hooks.example.com/a b", "whitespace"),
        ("https://hooks.example.com/\x00", "control characters"),
    ],
)
def test_url_rules(url: str, rule: str) -> None:
    broken = url_rule_broken(url)
    assert broken is not None and rule in broken
    with pytest.raises(TargetRefusedError) as refused:
        TargetPolicy(allow_private=True).check(url)
    assert refused.value.reason == INVALID_URL


def test_a_url_is_shown_by_its_scheme_and_host_only() -> None:
    assert shown("https://hooks.slack.com/services/T000/B000/SECRET") == "https://hooks.slack.com/…"
    assert shown("http://127.0.0.1:8941/services/x?token=y") == "http://127.0.0.1:8941/…"
    assert shown("http://[::1]:9/x") == "http://[::1]:9/…"
    assert shown("http://[zz]/") == "…"
