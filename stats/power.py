"""Sample size, detectable effect and duration for a two-arm comparison per variant.

Normal approximation of the two-sided test of a difference of means, each
treatment against the control. With more than two variants alpha is divided
by the number of comparisons (Bonferroni: the sequential reading's correction,
and a bound on Holm's first step) so the plan is valid for both readings.

By default the plan is for the sequential test that decides: at the planned
size the mixture is tuned to, its boundary is ``mixture_critical_value`` (3.04
standard errors at alpha 0.05, against 1.96 for one fixed-horizon look), so the
size is ``(c_seq + z_power)^2 V / d^2``. The sequential test may stop at any
earlier look as well, so its power at that size is at least the requested one.
"""

from __future__ import annotations

import math
from typing import NamedTuple, TypedDict, Unpack

from stats._distributions import normal_ppf
from stats.errors import StatsInputError
from stats.results import DetectableEffectResult, SampleSizeResult
from stats.sequential import mixture_critical_value, mixture_tuning
from stats.types import PlannedTest


def _check_probability(value: float, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise StatsInputError(name, f"{name} must be a number strictly between 0 and 1")


def _check_positive(value: float | None, name: str) -> None:
    valid = not isinstance(value, bool) and isinstance(value, int | float)
    if not valid or value is None or not math.isfinite(value) or value <= 0:
        raise StatsInputError(name, f"{name} must be a number > 0")


def _check_variants(variants: int) -> None:
    if isinstance(variants, bool) or not isinstance(variants, int) or variants < 2:
        raise StatsInputError("variants", "variants must be a whole number >= 2")


def _parse_test(test: PlannedTest | str) -> PlannedTest:
    try:
        return PlannedTest(test)
    except ValueError:
        allowed = ", ".join(item.value for item in PlannedTest)
        raise StatsInputError("test", f"test must be one of: {allowed}") from None


def _z_sum(alpha: float, power: float, variants: int, test: PlannedTest) -> float:
    """Critical value at alpha' = alpha / (variants - 1), two-sided, plus z_{power}.

    The fixed-horizon critical value is z_{1 - alpha'/2}; the sequential one is the
    mixture boundary at the planned size (where the mixture is tuned), in standard errors.
    """
    _check_probability(alpha, "alpha")
    _check_probability(power, "power")
    _check_variants(variants)
    per_comparison = alpha / (variants - 1)
    if test is PlannedTest.SEQUENTIAL:
        critical = mixture_critical_value(mixture_tuning(per_comparison), per_comparison)
    else:
        critical = normal_ppf(1.0 - per_comparison / 2.0)
    return critical + normal_ppf(power)


def _baseline(
    baseline_rate: float | None, baseline_mean: float | None, baseline_sd: float | None
) -> tuple[float, float | None]:
    """(baseline mean, sd) where sd is None for a rate (its sd depends on the effect)."""
    if baseline_rate is not None:
        if baseline_mean is not None or baseline_sd is not None:
            raise StatsInputError(
                "baseline_rate", "give baseline_rate or baseline_mean with baseline_sd, not both"
            )
        _check_probability(baseline_rate, "baseline_rate")
        return float(baseline_rate), None
    if baseline_mean is None or baseline_sd is None:
        raise StatsInputError(
            "baseline_rate", "baseline_rate, or baseline_mean and baseline_sd, is required"
        )
    _check_positive(baseline_mean, "baseline_mean")
    _check_positive(baseline_sd, "baseline_sd")
    return float(baseline_mean), float(baseline_sd)


def days_to_run(units_per_variant: int, variants: int, daily_units: float) -> int:
    """Whole days until every variant holds ``units_per_variant`` at ``daily_units`` a day."""
    _check_variants(variants)
    _check_positive(daily_units, "daily_units")
    return math.ceil(units_per_variant * variants / daily_units)


class PlanDesign(TypedDict, total=False):
    """The design both planning functions take by keyword, each part optional.

    The baseline is ``baseline_rate`` for a conversion metric, or ``baseline_mean`` with
    ``baseline_sd`` for a mean metric (one of the two is required). ``alpha`` is the two-sided
    level over all comparisons (default 0.05), ``power`` the power wanted (0.8), ``variants``
    the number of variants with the control (2), and ``test`` the test planned for
    (``"sequential"``; ``"fixed"`` plans a single fixed-horizon look).
    """

    baseline_rate: float | None
    baseline_mean: float | None
    baseline_sd: float | None
    alpha: float
    power: float
    variants: int
    test: PlannedTest | str


class _Plan(NamedTuple):
    """A checked design: variants, the critical values summed, the baseline's mean and sd
    (None for a rate)."""

    variants: int
    z_sum: float
    mean: float
    sd: float | None


def _planned_test(design: PlanDesign) -> PlannedTest:
    """The design's test; a keyword outside the design is refused like any unknown argument."""
    unknown = design.keys() - PlanDesign.__optional_keys__
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    return _parse_test(design.get("test", PlannedTest.SEQUENTIAL))


def _plan(design: PlanDesign, planned_for: PlannedTest) -> _Plan:
    """The design checked, its defaults filled in (those ``PlanDesign`` states)."""
    variants = design.get("variants", 2)
    z_sum = _z_sum(design.get("alpha", 0.05), design.get("power", 0.8), variants, planned_for)
    mean, sd = _baseline(
        design.get("baseline_rate"), design.get("baseline_mean"), design.get("baseline_sd")
    )
    return _Plan(variants, z_sum, mean, sd)


def sample_size(
    *, mde_relative: float, daily_units: float | None = None, **design: Unpack[PlanDesign]
) -> SampleSizeResult:
    """Units per variant to detect a relative uplift of ``mde_relative`` with the given power.

    The design (baseline, alpha, power, variants, test) is the one ``PlanDesign`` describes.
    ``days`` is filled when ``daily_units`` (units entering the experiment per day, all
    variants together) is given.
    """
    planned_for = _planned_test(design)
    _check_positive(mde_relative, "mde_relative")
    variants, z_sum, mean, sd = _plan(design, planned_for)
    treated = mean * (1.0 + mde_relative)
    if sd is None:
        if treated >= 1:
            raise StatsInputError("mde_relative", "mde_relative must keep the treated rate below 1")
        variance_sum = mean * (1.0 - mean) + treated * (1.0 - treated)
    else:
        variance_sum = 2.0 * sd * sd
    difference = treated - mean
    # Divide twice: the square of a minute difference underflows to 0.
    exact = z_sum * z_sum * variance_sum / difference / difference if difference else math.inf
    if not math.isfinite(exact):
        raise StatsInputError(
            "mde_relative",
            "mde_relative is too small for the baseline: no finite sample size detects it",
        )
    # Two units per arm at the least: no test reads fewer (a power below the level asks for 0).
    units = max(math.ceil(exact), 2)
    days = None if daily_units is None else days_to_run(units, variants, daily_units)
    return SampleSizeResult(units, units * variants, days, planned_for)


def detectable_effect(
    *, units_per_variant: int, **design: Unpack[PlanDesign]
) -> DetectableEffectResult:
    """Smallest relative uplift detected with ``power`` at ``units_per_variant`` (inverse of
    ``sample_size``, for the same design)."""
    planned_for = _planned_test(design)
    valid = not isinstance(units_per_variant, bool) and isinstance(units_per_variant, int)
    if not valid or units_per_variant < 2:
        raise StatsInputError("units_per_variant", "units_per_variant must be a whole number >= 2")
    _, z_sum, mean, sd = _plan(design, planned_for)
    k = z_sum * z_sum
    n = float(units_per_variant)
    if sd is None:
        # n d^2 = k (p q + (p + d)(1 - p - d)) is a quadratic in the difference d.
        a = n + k
        b = -k * (1.0 - 2.0 * mean)
        c = -2.0 * k * mean * (1.0 - mean)
        difference = (-b + math.sqrt(b * b - 4.0 * a * c)) / (2.0 * a)
    else:
        difference = math.sqrt(k * 2.0 * sd * sd / n)
    return DetectableEffectResult(difference / mean, difference)
