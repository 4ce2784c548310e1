"""Turn request-shaped mappings into validated sufficient statistics.

Each error names the exact field (``variants[1].conversions``) and the rule it
broke, so the HTTP layer can return it unchanged.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any, TypeVar

from stats import _builders as build
from stats._builders import named_tuple
from stats.checks import (
    COVARIATE_FIELDS,
    PRE_DENOMINATOR_FIELDS,
    check_consistency,
    check_covariate,
    check_nonzero_units,
    check_statistics,
    check_units,
)
from stats.errors import StatsInputError
from stats.types import (
    DEFAULT_MINIMUMS,
    STATISTIC_FIELDS,
    Alternative,
    Correction,
    CovariateStats,
    MeanStats,
    MetricStats,
    Minimums,
    Prior,
    ProportionStats,
    RatioStats,
    StatisticsKind,
    VariantInput,
)

_Choice = TypeVar("_Choice", bound=StrEnum)
_MEMBERS: dict[type[StrEnum], dict[Any, Any]] = {}

_RATIO_COVARIATE_FIELD = "covariate_denominator_cross_sum"
_NONZERO_UNITS = "nonzero_units"
_MAX_MINIMUM = 1_000_000
_TEXT = (str, bytes)  # a sequence, but never one of variants or weights
# The paths errors name, made once for the usual number of variants.
_PATHS = tuple(f"variants[{index}]" for index in range(16))


def _number(raw: Mapping[str, Any], name: str, path: str) -> float:
    try:
        value = raw[name]
    except KeyError:
        raise StatsInputError(f"{path}.{name}", f"{path}.{name} is required") from None
    # Exact built-in types first: this runs for every field of every request.
    if type(value) is not int and type(value) is not float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise StatsInputError(f"{path}.{name}", f"{path}.{name} must be a number")
        value = float(value)
    if not math.isfinite(value):
        raise StatsInputError(f"{path}.{name}", f"{path}.{name} must be finite")
    return float(value)


def _count(raw: Mapping[str, Any], name: str, path: str) -> int:
    exact = raw.get(name)
    if type(exact) is int and exact >= 0:
        return exact
    value = _number(raw, name, path)
    if value < 0:
        raise StatsInputError(f"{path}.{name}", f"{path}.{name} must be >= 0")
    if not value.is_integer():
        raise StatsInputError(f"{path}.{name}", f"{path}.{name} must be a whole number")
    return int(value)


def _units(raw: Mapping[str, Any], path: str) -> int:
    n = _count(raw, "n", path)
    check_units(n, path)
    return n


def _proportion(raw: Mapping[str, Any], path: str) -> ProportionStats:
    n, conversions = raw.get("n"), raw.get("conversions")
    # The usual request, read without the checks' calls: whole counts, n of at least 2, no more
    # conversions than units (``check_statistics``).
    if type(n) is int and type(conversions) is int and n >= 2 and 0 <= conversions <= n:
        return build.proportion_stats(n, conversions)
    stats = build.proportion_stats(_units(raw, path), _count(raw, "conversions", path))
    check_statistics(stats, path)
    return stats


def _mean(raw: Mapping[str, Any], path: str) -> MeanStats:
    n = _units(raw, path)
    stats = build.mean_stats(n, _number(raw, "sum", path), _number(raw, "sum_squares", path))
    check_statistics(stats, path)
    return stats


def _ratio(raw: Mapping[str, Any], path: str) -> RatioStats:
    n = _units(raw, path)
    stats = build.ratio_stats(
        n, *(_number(raw, name, path) for name in STATISTIC_FIELDS[StatisticsKind.RATIO][1:])
    )
    check_statistics(stats, path)
    return stats


# Each kind's sums, read and checked (``check_statistics``).
_PARSERS: dict[StatisticsKind, Callable[[Mapping[str, Any], str], MetricStats]] = {
    StatisticsKind.PROPORTION: _proportion,
    StatisticsKind.MEAN: _mean,
    StatisticsKind.RATIO: _ratio,
}

_FIELDS = {kind: frozenset(fields) for kind, fields in STATISTIC_FIELDS.items()}
# Every field a variant of each kind may carry.
_ALLOWED = {
    kind: fields
    | {"key", _NONZERO_UNITS, *COVARIATE_FIELDS}
    | ({_RATIO_COVARIATE_FIELD, *PRE_DENOMINATOR_FIELDS} if kind is StatisticsKind.RATIO else set())
    for kind, fields in _FIELDS.items()
}


def _covariate(raw: Mapping[str, Any], stats: MetricStats, path: str) -> CovariateStats | None:
    names = (*COVARIATE_FIELDS, _RATIO_COVARIATE_FIELD, *PRE_DENOMINATOR_FIELDS)
    present = [name for name in names if name in raw]
    if not present:
        return None
    sums = [_number(raw, name, path) for name in COVARIATE_FIELDS]
    if isinstance(stats, RatioStats):
        sums.append(_number(raw, _RATIO_COVARIATE_FIELD, path))
        if any(name in raw for name in PRE_DENOMINATOR_FIELDS):
            sums += [_number(raw, name, path) for name in PRE_DENOMINATOR_FIELDS]
    covariate = CovariateStats(*sums)
    check_covariate(covariate, stats, path)
    return covariate


def _nonzero_units(raw: Mapping[str, Any], stats: MetricStats, path: str) -> int | None:
    if _NONZERO_UNITS not in raw:
        return None
    count = _count(raw, _NONZERO_UNITS, path)
    check_nonzero_units(count, stats, path)
    return count


def _parse_choice(enum: type[_Choice], value: str, field: str) -> _Choice:
    """The member of ``enum`` named by ``value``, or an error listing the allowed values."""
    # A dict lookup: calling the enum costs about half a microsecond, three times a request.
    members = _MEMBERS.get(enum)
    if members is None:
        members = _MEMBERS[enum] = {member.value: member for member in enum}
    try:
        found: _Choice | None = members.get(value)
    except TypeError:  # unhashable input
        found = None
    if found is None:
        allowed = ", ".join(item.value for item in enum)
        raise StatsInputError(field, f"{field} must be one of: {allowed}")
    return found


def parse_kind(kind: StatisticsKind | str) -> StatisticsKind:
    return _parse_choice(StatisticsKind, kind, "kind")


def parse_variants(
    kind: StatisticsKind, variants: Sequence[Mapping[str, Any]]
) -> list[VariantInput]:
    """Validate request-shaped variants (first = control) into ``VariantInput`` values."""
    # A list or a tuple first: the check against the abstract Sequence costs 0.4 us.
    if type(variants) is not list and type(variants) is not tuple:
        if isinstance(variants, _TEXT) or not isinstance(variants, Sequence):
            raise StatsInputError("variants", "variants must be a list of mappings")
    if len(variants) < 2:
        raise StatsInputError("variants", "variants must hold at least two variants")
    allowed = _ALLOWED[kind]
    parsed: list[VariantInput] = []
    any_extra = False
    for index, raw in enumerate(variants):
        path = _PATHS[index] if index < len(_PATHS) else f"variants[{index}]"
        if type(raw) is not dict and not isinstance(raw, Mapping):
            raise StatsInputError(path, f"{path} must be a mapping of sufficient statistics")
        if not allowed.issuperset(raw):
            unknown = sorted(set(raw) - allowed)
            raise StatsInputError(
                f"{path}.{unknown[0]}", f"{path}.{unknown[0]} is not a field of kind {kind.value}"
            )
        key = raw.get("key")
        if key is None:
            key = f"variant_{index}"
        if not isinstance(key, str) or not key:
            raise StatsInputError(f"{path}.key", f"{path}.key must be a non-empty string")
        stats = _PARSERS[kind](raw, path)
        # A mapping with nothing beyond the metric fields and "key" (the usual request) carries
        # neither a covariate nor a count of non-zero units.
        extra = len(raw) - ("key" in raw) > len(_FIELDS[kind])
        covariate = _covariate(raw, stats, path) if extra else None
        nonzero = _nonzero_units(raw, stats, path) if extra else None
        any_extra = any_extra or extra
        parsed.append(named_tuple(VariantInput, (key, stats, covariate, nonzero)))
    check_consistency(parsed)
    if any_extra:
        _check_pre_denominators(variants)
    return parsed


def _check_pre_denominators(variants: Sequence[Mapping[str, Any]]) -> None:
    """A ratio's second covariate in every variant or in none (a missing one would read as a
    pre-period without orders)."""
    given = [PRE_DENOMINATOR_FIELDS[0] in raw for raw in variants]
    if any(given) and not all(given):
        index = given.index(False)
        field = f"variants[{index}].{PRE_DENOMINATOR_FIELDS[0]}"
        raise StatsInputError(
            field,
            f"{field} is required: the pre-period denominator is needed in every "
            "variant or in none",
        )


def parse_alpha(alpha: float) -> float:
    if type(alpha) is float and 0 < alpha < 1:
        return alpha
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise StatsInputError("alpha", "alpha must be a number strictly between 0 and 1")
    return float(alpha)


def parse_alternative(alternative: Alternative | str) -> Alternative:
    if type(alternative) is Alternative:  # a member already: the default
        return alternative
    return _parse_choice(Alternative, alternative, "alternative")


def parse_correction(correction: Correction | str) -> Correction:
    if type(correction) is Correction:  # a member already: the default
        return correction
    return _parse_choice(Correction, correction, "correction")


def parse_planned_units(planned: int | None, default: int) -> int:
    if planned is None:
        return default
    if isinstance(planned, bool) or not isinstance(planned, int) or planned < 2:
        raise StatsInputError(
            "planned_units_per_variant", "planned_units_per_variant must be a whole number >= 2"
        )
    return planned


def parse_prior(prior: Prior | Mapping[str, Any] | None) -> Prior | None:
    if prior is None or isinstance(prior, Prior):
        checked = prior
    elif isinstance(prior, Mapping):
        checked = Prior(_number(prior, "mean", "prior"), _number(prior, "sd", "prior"))
    else:
        raise StatsInputError("prior", "prior must be a mapping {mean, sd}")
    if checked is not None and not (math.isfinite(checked.sd) and checked.sd > 0):
        raise StatsInputError("prior.sd", "prior.sd must be > 0")
    return checked


def parse_weights(weights: Sequence[float] | None, variants: int) -> tuple[float, ...]:
    """Designed traffic split, normalised to sum to 1; equal split when absent."""
    if weights is None:
        return (1.0 / variants,) * variants
    if isinstance(weights, _TEXT) or not isinstance(weights, Sequence):
        raise StatsInputError("weights", "weights must be a list of numbers")
    if len(weights) != variants:
        raise StatsInputError(
            "weights", f"weights must hold one weight per variant ({variants}), got {len(weights)}"
        )
    for index, weight in enumerate(weights):
        valid = not isinstance(weight, bool) and isinstance(weight, int | float)
        if not valid or not math.isfinite(weight) or weight <= 0:
            raise StatsInputError(f"weights[{index}]", f"weights[{index}] must be a number > 0")
    total = float(sum(weights))
    return tuple(weight / total for weight in weights)


def parse_minimums(minimums: Minimums | Mapping[str, Any] | None) -> Minimums:
    """Validated minimums; defaults for the fields not given."""
    if minimums is None:
        return DEFAULT_MINIMUMS
    if isinstance(minimums, Minimums):
        values = {"conversions": minimums.conversions, "units": minimums.units}
    elif isinstance(minimums, Mapping):
        unknown = sorted(set(minimums) - {"conversions", "units"})
        if unknown:
            field = f"minimums.{unknown[0]}"
            raise StatsInputError(field, f"{field} is not a minimum; use conversions or units")
        values = {
            "conversions": minimums.get("conversions", DEFAULT_MINIMUMS.conversions),
            "units": minimums.get("units", DEFAULT_MINIMUMS.units),
        }
    else:
        raise StatsInputError("minimums", "minimums must be a mapping {conversions, units}")
    for name, value in values.items():
        valid = not isinstance(value, bool) and isinstance(value, int)
        if not valid or not 0 <= value <= _MAX_MINIMUM:
            field = f"minimums.{name}"
            raise StatsInputError(field, f"{field} must be a whole number from 0 to {_MAX_MINIMUM}")
    return Minimums(values["conversions"], values["units"])
