"""Slices of a layer's hash space, in basis points out of 10,000 (see docs/assignment.md).

Experiments in one layer never share a unit: each running experiment owns disjoint ranges
[start, end) of the layer's bucket space, and their widths add up to its traffic share.
Growing an experiment only adds ranges, so no included unit ever leaves it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import update
from sqlmodel import Session, col, select

from experiments.errors import ConflictError
from experiments.models.experiment import Experiment, ExperimentStatus

LAYER_BUCKETS = 10_000  # the SDK's LAYER_BUCKETS, the spec (a test compares them)

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


def grow_layer_slice(session: Session, experiment: Experiment, traffic: float) -> None:
    """Give a layer experiment enough of its layer's buckets for `traffic`; 409 when full."""
    layer = experiment.layer
    if layer is None:
        return
    # Write-lock the layer's rows first, so two starts in one layer cannot both take the same
    # free buckets: on PostgreSQL row locks taken in one order (an UPDATE alone locks them in the
    # order it finds them, and two starts finding them in different orders deadlocked), on
    # SQLite, which has no FOR UPDATE, the database's write lock that the UPDATE takes.
    in_layer = col(Experiment.layer) == layer
    session.execute(
        select(Experiment.id).where(in_layer).order_by(col(Experiment.id)).with_for_update()
    )
    session.execute(update(Experiment).where(in_layer).values(layer=Experiment.layer))
    others = session.exec(
        select(Experiment).where(
            Experiment.layer == layer,
            Experiment.status == ExperimentStatus.RUNNING.value,
            Experiment.id != experiment.id,
        )
    )
    taken = [list(r) for other in others for r in other.layer_ranges]
    experiment.layer_ranges = grow(
        [list(r) for r in experiment.layer_ranges], taken, traffic_to_buckets(traffic), layer
    )
