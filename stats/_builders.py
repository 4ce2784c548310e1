"""Fast constructors of the frozen dataclasses built on every analysis (the results, and the
sums and options a request is parsed into).

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``: a third of a
two-arm analysis went there. Each constructor here fills a *draft*, a subclass of the dataclass
that adds no slot (so the same memory layout) and sets attributes as a plain class does, so
Python sets each slot with one store; then it assigns the draft's ``__class__`` (Python allows
it between classes of the same layout): the object is then the dataclass's, equal field for
field to what its ``__init__`` builds, in two fifths of the time. Each constructor takes every
field, positionally, in the order of the class's fields.
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


def draft(cls: type[Any]) -> type[Any]:
    """The draft class of ``cls``: its subclass without slots of its own, whose attributes are
    set as a plain class's (``object.__setattr__``, not the frozen dataclass's) and whose
    ``__init__`` takes nothing; once filled, an instance becomes ``cls``'s by
    ``built.__class__ = cls``. A subclass that adds nothing passes that assignment's check of
    the layout at once, where a separate class with the same ``__slots__`` has them compared
    name by name (some 200 instructions more per object). Make one by calling the draft class
    (``draft()``): ``object.__new__(draft)`` goes through a wrapper that builds two argument
    tuples and checks the class's bases, some 370 instructions more per object."""
    names = [field.name for field in fields(cls)]
    slotted = list(getattr(cls, "__slots__", ())) == names and cls.__bases__ == (object,)
    if hasattr(cls, "__post_init__") or not slotted:
        raise TypeError(f"{cls.__name__} is not a slotted dataclass without __post_init__")
    # Both attribute hooks are the plain ones: one hook written in Python (the frozen
    # dataclass's __delattr__) would make Python call it for every store.
    plain = {
        "__slots__": (),
        "__init__": object.__init__,
        "__setattr__": object.__setattr__,
        "__delattr__": object.__delattr__,
    }
    return type(f"_{cls.__name__}Draft", (cls,), plain)


def _constructor(cls: type[_Result]) -> Callable[..., _Result]:
    """``cls(*values)`` without ``cls.__init__`` (no defaults, no ``__post_init__``)."""
    names = [field.name for field in fields(cls)]  # type: ignore[arg-type]
    namespace: dict[str, Any] = {"_draft": draft(cls), "_cls": cls}
    lines = [f"def build({', '.join(names)}):", "    built = _draft()"]
    lines += [f"    built.{name} = {name}" for name in names]
    lines += ["    built.__class__ = _cls", "    return built"]
    exec("\n".join(lines), namespace)  # noqa: S102 - the source is made of field names only
    built: Callable[..., _Result] = namespace["build"]
    return built


named_tuple = tuple.__new__
"""``named_tuple(cls, (value, ...))``: the named tuple ``cls(value, ...)`` in half the time (a
named tuple's own ``__new__`` is a Python function), for those built on every analysis."""

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
