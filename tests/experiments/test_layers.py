"""Layer slices: disjoint, and growing never moves a bucket."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from experiments import layers
from experiments.errors import ConflictError


def test_free_ranges() -> None:
    assert layers.free_ranges([]) == [[0, 10_000]]
    assert layers.free_ranges([[2000, 3000], [0, 1000]]) == [[1000, 2000], [3000, 10_000]]


def test_grow_takes_free_space_first_fit() -> None:
    assert layers.grow([], [[0, 1000]], 2500, "l") == [[1000, 3500]]
    assert layers.grow([[1000, 3500]], [[0, 1000], [3500, 4000]], 3000, "l") == [
        [1000, 3500],
        [4000, 4500],
    ]


def test_grow_refuses_over_capacity() -> None:
    with pytest.raises(ConflictError, match="only 0.2000"):
        layers.grow([], [[0, 8000]], 2500, "cta")


@given(st.lists(st.integers(min_value=1, max_value=3000), min_size=1, max_size=8))
def test_slices_stay_disjoint_and_only_grow(requests: list[int]) -> None:
    owned: dict[int, list[list[int]]] = {}
    for step, target in enumerate(requests):
        owner = step % 3
        own = owned.get(owner, [])
        others = [r for key, ranges in owned.items() if key != owner for r in ranges]
        try:
            grown = layers.grow(own, others, layers.width(own) + target, "l")
        except ConflictError:
            assert layers.width(others) + layers.width(own) + target > layers.LAYER_BUCKETS
            continue
        covered_before = {b for start, end in own for b in range(start, end)}
        covered_after = {b for start, end in grown for b in range(start, end)}
        assert covered_before <= covered_after
        assert layers.width(grown) == layers.width(own) + target
        owned[owner] = grown
    buckets = [b for ranges in owned.values() for start, end in ranges for b in range(start, end)]
    assert len(buckets) == len(set(buckets))
