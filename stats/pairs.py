"""The rule that decides whether one comparison of two arms is read, and on which estimates.

Shared by ``stats.analysis`` (each variant against the control) and ``stats.segments`` (the
same comparison inside a segment and in the rest of the units), so a segment is gated exactly
as the whole is.
"""

from __future__ import annotations

from typing import NamedTuple

from stats._builders import named_tuple
from stats.estimates import (
    ArmEstimate,
    agresti_caffo,
    at_boundary,
    is_proportion_without_conversions,
)
from stats.gates import below_minimums
from stats.types import Minimums, ProportionStats, Reason, VariantInput

# A per-unit variance below this share of the squared mean is rounding noise of the sums
# (constant values summed in floating point), not spread.
_ROUNDING = 1e-12


class PairReading(NamedTuple):
    """The two arms one comparison reads, and why it is degenerate (``withheld``: no reading)."""

    control: ArmEstimate
    treatment: ArmEstimate
    reason: Reason | None
    withheld: bool


def read_pair(
    inputs: tuple[VariantInput, VariantInput],
    arms: tuple[ArmEstimate, ArmEstimate],
    least: Minimums,
    units: tuple[float, float] | None = None,
) -> PairReading:
    """The estimates one comparison reads, or the reason it gives no reading.

    Rules, in order: an undefined mean (ratio with a zero denominator); data below the
    minimums; a proportion with 0 or n conversions in an arm reads Agresti-Caffo estimates; an
    arm whose spread is still estimated as zero, or a ratio arm with fewer than 2 units with a
    non-zero denominator, gives no reading (never a zero-width interval). ``units``: the arms'
    ``stats.gates.spread_units`` when the caller has them.
    """
    control, treatment = arms
    if control.mean is None or treatment.mean is None:
        return named_tuple(PairReading, (control, treatment, Reason.DENOMINATOR_ZERO, True))
    if below_minimums(inputs, least, units):
        return named_tuple(PairReading, (control, treatment, _thin_reason(inputs), True))
    reason = None
    baseline, variant = inputs[0].stats, inputs[1].stats
    if (
        isinstance(baseline, ProportionStats)
        and isinstance(variant, ProportionStats)
        and (at_boundary(baseline) or at_boundary(variant))
    ):
        control, treatment = agresti_caffo(baseline), agresti_caffo(variant)
        if baseline.conversions == 0 and variant.conversions == 0:
            reason = Reason.NO_CONVERSIONS
    if control.dof < 1 or treatment.dof < 1:
        return named_tuple(PairReading, (control, treatment, Reason.NOT_ENOUGH_DATA, True))
    # Zero estimated spread, or one indistinguishable from the rounding of the sums.
    control_mean, treatment_mean = control.mean or 0.0, treatment.mean or 0.0
    if not (
        control.variance * control.n > _ROUNDING * control_mean * control_mean
        and treatment.variance * treatment.n > _ROUNDING * treatment_mean * treatment_mean
    ):
        return named_tuple(PairReading, (control, treatment, Reason.ZERO_VARIANCE, True))
    return named_tuple(PairReading, (control, treatment, reason, False))


def _thin_reason(inputs: tuple[VariantInput, VariantInput]) -> Reason:
    nothing = is_proportion_without_conversions(
        inputs[0].stats
    ) and is_proportion_without_conversions(inputs[1].stats)
    return Reason.NO_CONVERSIONS if nothing else Reason.NOT_ENOUGH_DATA
