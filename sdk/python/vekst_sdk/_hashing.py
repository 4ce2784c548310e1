"""Hashing and bucketing: the part every SDK must reproduce bit for bit.

All hashes are MurmurHash3 x86_32, seed 0, over the UTF-8 bytes of an ASCII purpose prefix, a
key and the unit id (see docs/assignment.md). Hash values are unsigned 32-bit integers and every
comparison is an integer comparison, so any language gets identical answers. The one exception
is the override digest: seeds 0 and 1 over one input, for 64 bits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import mmh3

#: Size of the hash space: hash values are integers in ``[0, HASH_SPACE)``.
HASH_SPACE = 1 << 32
#: Layers are divided into this many buckets (basis points).
LAYER_BUCKETS = 10_000
HASH_SEED = 0
#: The two seeds of an override digest (two 32-bit hashes make 64 bits).
OVERRIDE_SEEDS = (0, 1)


def murmur3_32(text: str) -> int:
    """Return MurmurHash3 x86_32 (seed 0) of the UTF-8 bytes of ``text`` as an unsigned int.

    Raises ``UnicodeEncodeError`` for strings that are not valid Unicode (lone surrogates).
    """
    # Encoding first turns a lone surrogate into UnicodeEncodeError (mmh3 5.x would crash).
    return int(mmh3.hash(text.encode("utf-8"), HASH_SEED, False))


def variant_prefix(salt: str) -> str:
    """Return the string the unit id is appended to for the variant hash."""
    return f"variant:{salt}:"


def traffic_prefix(salt: str) -> str:
    """Return the string the unit id is appended to for the traffic (inclusion) hash."""
    return f"traffic:{salt}:"


def layer_prefix(layer_key: str) -> str:
    """Return the string the unit id is appended to for the layer hash."""
    return f"layer:{layer_key}:"


def override_prefix(salt: str) -> str:
    """Return the string the unit id is appended to for the override digest."""
    return f"override:{salt}:"


def holdout_prefix(salt: str) -> str:
    """Return the string the unit id is appended to for a holdout's hash."""
    return f"holdout:{salt}:"


def holdout_hash(salt: str, unit_id: str) -> int:
    """Return the unit's hash in ``[0, 2**32)`` for the holdout with ``salt``: below
    ``traffic_threshold(share)`` it is in the holdout group, below twice that in the
    measurement group (docs/assignment.md, section 9)."""
    return murmur3_32(holdout_prefix(salt) + unit_id)


def override_digest(salt: str, unit_id: str) -> str:
    """Return the 16 hex digits under which the config publishes a QA override of ``unit_id``.

    MurmurHash3 x86_32 of ``override:<salt>:<unit id>`` with seed 0, then seed 1, each as 8
    lowercase hex digits. It hides the id from a casual reader of the public config; it is no
    encryption: whoever guesses an id can check the guess (docs/assignment.md, section 6).
    """
    data = (override_prefix(salt) + unit_id).encode("utf-8")
    return "".join(f"{mmh3.hash(data, seed, False):08x}" for seed in OVERRIDE_SEEDS)


def variant_hash(salt: str, unit_id: str) -> int:
    """Return the unit's variant hash in ``[0, 2**32)`` for an experiment with ``salt``."""
    return murmur3_32(variant_prefix(salt) + unit_id)


def traffic_hash(salt: str, unit_id: str) -> int:
    """Return the unit's inclusion hash in ``[0, 2**32)``, independent of its variant hash."""
    return murmur3_32(traffic_prefix(salt) + unit_id)


def layer_bucket(layer_key: str, unit_id: str) -> int:
    """Return the unit's bucket in ``[0, 10000)`` of the layer ``layer_key``.

    The bucket is ``(hash * 10000) >> 32``: a multiply-shift, exact in integer arithmetic (and in
    IEEE doubles, since ``hash * 10000 < 2**53``).
    """
    return (murmur3_32(layer_prefix(layer_key) + unit_id) * LAYER_BUCKETS) >> 32


def variant_upper_bounds(weights: Sequence[float]) -> tuple[int, ...]:
    """Turn relative weights into exclusive upper bounds of each variant's hash range.

    Bound ``k`` is ``floor(cum_k * 2**32 / total)`` computed in IEEE-754 doubles, where ``cum_k``
    and ``total`` are left-to-right sums of the weights; the last bound is exactly ``2**32``. A
    unit with variant hash ``h`` gets the first variant whose bound exceeds ``h``. The weights
    must already be validated (finite, positive).
    """
    total = 0.0
    for weight in weights:
        total += float(weight)
    bounds: list[int] = []
    cumulative = 0.0
    for weight in weights[:-1]:
        cumulative += float(weight)
        bounds.append(math.floor(cumulative * HASH_SPACE / total))
    bounds.append(HASH_SPACE)
    return tuple(bounds)


def traffic_threshold(traffic: float) -> int:
    """Return the inclusion threshold: a unit is included iff its traffic hash is below it.

    ``floor(traffic * 2**32)``; the multiplication by a power of two is exact, so raising
    ``traffic`` can only raise the threshold and therefore only add units.
    """
    return math.floor(float(traffic) * HASH_SPACE)
