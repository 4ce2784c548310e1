"""Fast constructors of the frozen dataclasses built on every analysis (the results, and the
sums and options a request is parsed into).

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``; setting the
slots through their descriptors builds the same object (equal, field for field) in less than
half the time, which is a third of a two-arm analysis. Each constructor takes every field,
positionally, in the order of the class's fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any, TypeVar

from stats.results import (
    AnalysisResult,
    BayesianResult,
    Comparison,
    CupedResult,
    SequentialResult,
    SrmResult,
    VariantSummary,
)
from stats.types import AnalysisOptions, MeanStats, ProportionStats, RatioStats

_Result = TypeVar("_Result")


def _constructor(cls: type[_Result]) -> Callable[..., _Result]:
    """``cls(*values)`` without ``cls.__init__`` (no defaults, no ``__post_init__``)."""
    names = [field.name for field in fields(cls)]  # type: ignore[arg-type]
    if hasattr(cls, "__post_init__") or list(getattr(cls, "__slots__", ())) != names:
        raise TypeError(f"{cls.__name__} is not a slotted dataclass without __post_init__")
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    namespace.update({f"_set_{name}": getattr(cls, name).__set__ for name in names})
    lines = [f"def build({', '.join(names)}):", "    built = _new(_cls)"]
    lines += [f"    _set_{name}(built, {name})" for name in names]
    lines.append("    return built")
    exec("\n".join(lines), namespace)  # noqa: S102 - the source is made of field names only
    built: Callable[..., _Result] = namespace["build"]
    return built


comparison = _constructor(Comparison)
sequential_result = _constructor(SequentialResult)
bayesian_result = _constructor(BayesianResult)
cuped_result = _constructor(CupedResult)
variant_summary = _constructor(VariantSummary)
srm_result = _constructor(SrmResult)
analysis_result = _constructor(AnalysisResult)
proportion_stats = _constructor(ProportionStats)
mean_stats = _constructor(MeanStats)
ratio_stats = _constructor(RatioStats)
analysis_options = _constructor(AnalysisOptions)
