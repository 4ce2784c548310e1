"""Slices of a layer's hash space, in basis points out of 10,000 (see docs/assignment.md).

Experiments in one layer never share a unit: each running experiment owns disjoint ranges
[start, end) of the layer's bucket space, and their widths add up to its traffic share.
Growing an experiment only adds ranges, so no included unit ever leaves it.
"""

from __future__ import annotations

from collections.abc import Iterable

from experiments.errors import ConflictError

LAYER_BUCKETS = 10_000

Range = list[int]  # [start, end), JSON-friendly


def traffic_to_buckets(traffic: float) -> int:
    return round(traffic * LAYER_BUCKETS)


def width(ranges: Iterable[Range]) -> int:
    return sum(end - start for start, end in ranges)


def free_ranges(taken: Iterable[Range]) -> list[Range]:
    """The parts of the layer's bucket space no range in `taken` covers, in order."""
    free: list[Range] = []
    cursor = 0
    for start, end in sorted(taken):
        if start > cursor:
            free.append([cursor, start])
        cursor = max(cursor, end)
    if cursor < LAYER_BUCKETS:
        free.append([cursor, LAYER_BUCKETS])
    return free


def grow(
    own: list[Range], taken_by_others: Iterable[Range], target: int, layer: str
) -> list[Range]:
    """Return `own` plus free buckets up to `target` buckets in all; 409 when too few are free."""
    others = list(taken_by_others)
    needed = target - width(own)
    if needed <= 0:
        return own
    available = free_ranges([*others, *own])
    if width(available) < needed:
        free_share = width(free_ranges(others)) / LAYER_BUCKETS
        raise ConflictError(
            f"layer '{layer}' has only {free_share:.4f} of its traffic free for this experiment "
            f"(the running experiments of a layer may take at most 1 in total); "
            "lower this experiment's traffic or stop another experiment of the layer"
        )
    added: list[Range] = []
    for start, end in available:
        take = min(end - start, needed)
        added.append([start, start + take])
        needed -= take
        if needed == 0:
            break
    return _merge([*own, *added])


def _merge(ranges: list[Range]) -> list[Range]:
    merged: list[Range] = []
    for start, end in sorted(ranges):
        if merged and merged[-1][1] == start:
            merged[-1][1] = end
        else:
            merged.append([start, end])
    return merged
