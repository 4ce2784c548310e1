"""Multiple-comparison adjustment of the p-values of each variant against the control."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from stats.types import Correction


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values (controls the family-wise error rate)."""
    count = len(p_values)
    order = sorted(range(count), key=p_values.__getitem__)
    adjusted = [0.0] * count
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (count - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg step-up adjusted p-values (controls the false discovery rate)."""
    count = len(p_values)
    order = sorted(range(count), key=p_values.__getitem__, reverse=True)
    adjusted = [0.0] * count
    running = 1.0
    for position, index in enumerate(order):
        rank = count - position
        running = min(running, count * p_values[index] / rank)
        adjusted[index] = running
    return adjusted


def unadjusted(p_values: Sequence[float]) -> list[float]:
    return list(p_values)


CORRECTIONS: dict[Correction, Callable[[Sequence[float]], list[float]]] = {
    Correction.HOLM: holm,
    Correction.BENJAMINI_HOCHBERG: benjamini_hochberg,
    Correction.NONE: unadjusted,
}


def adjust(p_values: Sequence[float | None], correction: Correction) -> list[float | None]:
    """Adjust the defined p-values as one family; undefined ones (None) stay None."""
    if len(p_values) == 1:
        # Every correction leaves a family of one unchanged; two-variant tests are the norm.
        return list(p_values)
    defined = [index for index, value in enumerate(p_values) if value is not None]
    values = [value for value in p_values if value is not None]
    adjusted: list[float | None] = [None] * len(p_values)
    for index, value in zip(defined, CORRECTIONS[correction](values), strict=True):
        adjusted[index] = value
    return adjusted


def interval_level(alpha: float, p_value: float, p_adjusted: float, comparisons: int) -> float:
    """Level of the intervals that agree with the adjusted p-value: ``alpha * p / p_adjusted``.

    An interval at level a excludes the null exactly when p < a, so at this level it excludes
    it exactly when ``p_adjusted < alpha``, whatever the correction. When both p-values are 0
    the Bonferroni level ``alpha / comparisons`` is used (it excludes the null as well).
    """
    if p_adjusted <= 0:
        return alpha / comparisons
    return alpha * min(p_value / p_adjusted, 1.0)
