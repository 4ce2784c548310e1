"""What other result types would save `stats.analyze_many`: a two-arm analysis's result objects
built from ready columns (the last step of the bulk path), the young-generation collection their
allocation sets off, and freeing them, for four shapes of the same fields:

- the shipped frozen slotted dataclasses of `stats.results`, built as the bulk path builds them
  (`stats._bulk_objects.two_arms`: a draft filled slot by slot, then given its class);
- named tuples with the same fields (`collections.namedtuple`), built in C (`tuple.__new__`
  mapped over the columns), no Python code per object;
- slotted dataclasses that are not frozen (`dataclasses.make_dataclass`), built by calling
  their class.

Those three make the same 13 objects per analysis (9 results, 2 tuples, 4 intervals); only the
way they are made differs. A fourth shape has fewer objects: the comparison's four intervals and
its sequential and Bayesian readings, and the analysis's SRM reading, as fields of the
comparison and of the analysis (frozen slotted dataclasses built as the shipped ones are): 6
objects per analysis, what flattening the public types would cost. The four alternate, each
timed once per round, `--rounds` rounds (CPU time); the figures are medians per analysis.

Run from the repository root: python -m benchmarks.bench_result_types [--rounds 40]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections import namedtuple
from collections.abc import Callable
from dataclasses import fields, make_dataclass
from itertools import repeat, starmap
from typing import Any

import numpy as np

from stats import _bulk_objects as objects
from stats._builders import _constructor as constructor
from stats._builders import variant_summary
from stats.results import (
    AnalysisResult,
    BayesianResult,
    Comparison,
    SequentialResult,
    SrmResult,
    VariantSummary,
)
from stats.types import StatisticsKind

ANALYSES = 1000
_TYPES = (SequentialResult, BayesianResult, Comparison, VariantSummary, SrmResult, AnalysisResult)


def _names(cls: type[Any]) -> list[str]:
    return [field.name for field in fields(cls)]


_NAMED = {cls: namedtuple(cls.__name__, _names(cls)) for cls in _TYPES}  # noqa: PYI024
_UNFROZEN = {cls: make_dataclass(cls.__name__, _names(cls), slots=True) for cls in _TYPES}


def _flat(name: str, names: str) -> Callable[..., Any]:
    """The constructor of a frozen slotted dataclass of ``names``, built as the shipped ones."""
    return constructor(make_dataclass(name, names.split(), frozen=True, slots=True))


_FLAT_COMPARISON = _flat(
    "FlatComparison",
    "variant baseline estimate low high relative_estimate relative_low relative_high p_value "
    "p_value_adjusted significant late_p_value late_low late_high late_relative_low "
    "late_relative_high late_significant late_p_value_adjusted chance_to_beat expected_loss "
    "reason variance_reduction",
)
_FLAT_SUMMARY = variant_summary
_FLAT_ANALYSIS = _flat("FlatAnalysis", "kind alpha variants srm_p_value mismatch comparisons")


def _columns() -> list[list[float]]:
    rng = np.random.default_rng(7)
    return [rng.random(ANALYSES).tolist() for _ in range(18)]


def shipped(f: list[list[float]]) -> list[Any]:
    """The frozen dataclasses, as ``stats._bulk_results.assembled`` builds them."""
    return list(
        starmap(
            objects.two_arms,
            zip(
                repeat(StatisticsKind.PROPORTION), repeat(0.05), repeat("control"),
                repeat("treatment"), repeat(5000), repeat(5000), f[15], f[16], repeat(None),
                repeat(None), repeat(None), repeat(None), f[17], repeat(False),
                objects.intervals(f[0], f[2], f[3]), objects.intervals(f[1], f[4], f[5]), f[6],
                f[6], repeat(True), f[7], objects.intervals(f[0], f[8], f[9]),
                objects.intervals(f[1], f[10], f[11]), repeat(False), f[12], f[13], f[14],
                repeat(None), repeat(None),
            ),
        )
    )  # fmt: skip


def _shape(build: Callable[..., Any], f: list[list[float]]) -> list[Any]:
    """The same objects, each made by ``build(cls, *columns)`` (a map over the columns, which
    ends with the shortest: the constant ones are ``repeat``s without end)."""
    late = build(
        SequentialResult, f[7], objects.intervals(f[0], f[8], f[9]),
        objects.intervals(f[1], f[10], f[11]), repeat(False), f[12],
    )  # fmt: skip
    bayesian = build(BayesianResult, f[13], f[14])
    comparisons = build(
        Comparison, repeat("treatment"), repeat("control"), objects.intervals(f[0], f[2], f[3]),
        objects.intervals(f[1], f[4], f[5]), f[6], f[6], repeat(True), late, bayesian,
        repeat(None), repeat(None),
    )  # fmt: skip
    first, second = (
        build(VariantSummary, repeat(key), repeat(5000), f[column], repeat(None), repeat(None))
        for key, column in (("control", 15), ("treatment", 16))
    )
    srm = build(SrmResult, f[17], repeat(False))
    return list(
        build(
            AnalysisResult, repeat(StatisticsKind.PROPORTION), repeat(0.05),
            zip(first, second, strict=True), srm, zip(comparisons, strict=True),
        )
    )  # fmt: skip


def named_tuples(f: list[list[float]]) -> list[Any]:
    return _shape(
        lambda cls, *cols: map(tuple.__new__, repeat(_NAMED[cls]), zip(*cols, strict=False)), f
    )


def unfrozen(f: list[list[float]]) -> list[Any]:
    return _shape(lambda cls, *cols: starmap(_UNFROZEN[cls], zip(*cols, strict=False)), f)


def flattened(f: list[list[float]]) -> list[Any]:
    """6 objects per analysis: the intervals and readings as fields."""
    comparisons = starmap(
        _FLAT_COMPARISON,
        zip(
            repeat("treatment"), repeat("control"), f[0], f[2], f[3], f[1], f[4], f[5], f[6],
            f[6], repeat(True), f[7], f[8], f[9], f[10], f[11], repeat(False), f[12], f[13],
            f[14], repeat(None), repeat(None), strict=False,
        ),
    )  # fmt: skip
    first, second = (
        map(_FLAT_SUMMARY, repeat(key), repeat(5000), f[column], repeat(None), repeat(None))
        for key, column in (("control", 15), ("treatment", 16))
    )
    return list(
        map(
            _FLAT_ANALYSIS, repeat(StatisticsKind.PROPORTION), repeat(0.05),
            zip(first, second, strict=True), f[17], repeat(False), zip(comparisons, strict=True),
        )
    )  # fmt: skip


def _time(build: Callable[[list[list[float]]], list[Any]]) -> float:
    """Microseconds per analysis: the columns made afresh, the objects built with the collector
    paused (as ``analyze_many`` does), the collection the next allocation sets off, the free."""
    columns = _columns()
    start = time.process_time()
    gc.disable()
    results = build(columns)
    gc.enable()
    gc.collect(0)
    del results
    return (time.process_time() - start) / ANALYSES * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    shapes = {"frozen dataclasses (shipped)": shipped, "named tuples": named_tuples}
    shapes["slotted dataclasses, not frozen"] = unfrozen
    shapes["flattened: 6 objects, not 13"] = flattened
    if repr(shipped(_columns())) != repr(named_tuples(_columns())):
        raise SystemExit("the named tuples differ from the shipped results")
    times: dict[str, list[float]] = {name: [] for name in shapes}
    for _ in range(args.rounds):
        for name, build in shapes.items():
            times[name].append(_time(build))
    base = statistics.median(times["frozen dataclasses (shipped)"])
    print(f"a two-arm analysis's result objects, built, collected and freed ({ANALYSES}):")
    for name, found in times.items():
        median = statistics.median(found)
        print(f"  {name:32s} {median:5.2f} us per analysis   ({base - median:+.2f} us saved)")


if __name__ == "__main__":
    main()
