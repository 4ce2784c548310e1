"""The pure-Python reference MurmurHash3 against published values and against mmh3."""

from __future__ import annotations

import mmh3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.sdk.reference import murmur3_x86_32
from vekst_sdk.spec import murmur3_32

# Published MurmurHash3 x86_32 test values (input, seed, expected).
PUBLISHED = [
    (b"", 0, 0),
    (b"", 1, 0x514E28B7),
    (b"", 0xFFFFFFFF, 0x81F16F39),
    (b"\x00\x00\x00\x00", 0, 0x2362F9DE),
    (b"aaaa", 0x9747B28C, 0x5A97808A),
    (b"aaa", 0x9747B28C, 0x283E0130),
    (b"aa", 0x9747B28C, 0x5D211726),
    (b"a", 0x9747B28C, 0x7FA09EA6),
    (b"abcd", 0x9747B28C, 0xF0478627),
    (b"Hello, world!", 0x9747B28C, 0x24884CBA),
    (b"The quick brown fox jumps over the lazy dog", 0x9747B28C, 0x2FA826CD),
]


@pytest.mark.parametrize(("data", "seed", "expected"), PUBLISHED)
def test_reference_matches_published_values(data: bytes, seed: int, expected: int) -> None:
    assert murmur3_x86_32(data, seed) == expected
    assert mmh3.hash(data, seed, False) == expected


@given(st.binary(max_size=64), st.integers(min_value=0, max_value=2**32 - 1))
def test_reference_matches_mmh3(data: bytes, seed: int) -> None:
    assert murmur3_x86_32(data, seed) == mmh3.hash(data, seed, False)


@given(st.text(max_size=40))
def test_sdk_hash_is_murmur_of_utf8(text: str) -> None:
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            murmur3_32(text)
        return
    assert murmur3_32(text) == murmur3_x86_32(encoded)
