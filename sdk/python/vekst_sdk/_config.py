"""Validation of the config document served at ``GET /v1/sdk/config``.

Unknown keys are ignored (so an older SDK keeps working when the server adds fields); known
keys must follow the contract in docs/assignment.md. Errors carry the path of the bad field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from vekst_sdk._checks import is_number, require_key_string, validate_salt
from vekst_sdk._errors import ConfigError
from vekst_sdk._hashing import LAYER_BUCKETS, variant_upper_bounds
from vekst_sdk._holdouts import check_holdouts
from vekst_sdk._targeting import validate_targeting

CONFIG_VERSION = 1
MIN_VARIANTS = 2
MAX_VARIANTS = 10
MAX_WEIGHT = 1e12
#: The most attribute names an experiment's exposures carry (its ``dimensions``).
MAX_DIMENSIONS = 5
#: The largest ``sticky_version`` (a 32-bit signed integer, as the server stores it).
MAX_STICKY_VERSION = 2**31 - 1
STATUSES = ("running", "stopped")
_OVERRIDE_DIGEST = re.compile(r"[0-9a-f]{16}")


def validate_experiment(experiment: object, path: str = "experiment") -> None:
    """Check one experiment definition of the config document; raise :class:`ConfigError`."""
    if not isinstance(experiment, Mapping):
        raise ConfigError(path, "an experiment must be an object")
    require_key_string(experiment.get("key"), f"{path}.key")
    validate_salt(experiment.get("salt"), f"{path}.salt")
    status = experiment.get("status")
    if status not in STATUSES:
        raise ConfigError(f"{path}.status", f"must be one of {', '.join(STATUSES)}")
    require_key_string(experiment.get("unit_type"), f"{path}.unit_type")
    variant_keys = _validate_variants(experiment.get("variants"), f"{path}.variants")
    if experiment.get("layer") is None:
        traffic = experiment.get("traffic", 1.0)
        if not is_number(traffic) or not 0 < traffic <= 1:
            raise ConfigError(f"{path}.traffic", "must be a number with 0 < traffic <= 1")
    else:
        _validate_layer(experiment["layer"], f"{path}.layer")
    validate_targeting(experiment.get("targeting"), f"{path}.targeting")
    _validate_dimensions(experiment.get("dimensions"), f"{path}.dimensions")
    _validate_override_hashes(
        experiment.get("override_hashes"), variant_keys, f"{path}.override_hashes"
    )
    sticky_version = experiment.get("sticky_version")
    if sticky_version is not None and (
        not isinstance(sticky_version, int)
        or isinstance(sticky_version, bool)
        or not 1 <= sticky_version <= MAX_STICKY_VERSION
    ):
        raise ConfigError(
            f"{path}.sticky_version", f"must be an integer from 1 to {MAX_STICKY_VERSION}"
        )
    winner = experiment.get("winner")
    if winner is not None:
        if status != "stopped":
            raise ConfigError(f"{path}.winner", "only a stopped experiment can have a winner")
        if winner not in variant_keys:
            raise ConfigError(f"{path}.winner", "must be the key of one of the variants")


def _validate_variants(variants: object, path: str) -> list[str]:
    if not isinstance(variants, list) or not MIN_VARIANTS <= len(variants) <= MAX_VARIANTS:
        raise ConfigError(path, f"must be a list of {MIN_VARIANTS} to {MAX_VARIANTS} variants")
    keys: list[str] = []
    weights: list[float] = []
    for index, variant in enumerate(variants):
        item_path = f"{path}[{index}]"
        if not isinstance(variant, Mapping):
            raise ConfigError(item_path, "a variant must be an object")
        key = require_key_string(variant.get("key"), f"{item_path}.key")
        if key in keys:
            raise ConfigError(f"{item_path}.key", "variant keys must be unique")
        weight = variant.get("weight")
        if not is_number(weight) or not math.isfinite(weight) or not 0 < weight <= MAX_WEIGHT:
            raise ConfigError(
                f"{item_path}.weight", f"must be a number with 0 < weight <= {MAX_WEIGHT:g}"
            )
        keys.append(key)
        weights.append(float(weight))
    bounds = (0, *variant_upper_bounds(weights))
    for index in range(len(weights)):
        if bounds[index + 1] <= bounds[index]:
            raise ConfigError(
                f"{path}[{index}].weight",
                "is too small relative to the others: the variant would receive no units",
            )
    return keys


def _validate_dimensions(dimensions: object, path: str) -> None:
    """``dimensions``: absent, null or a list of at most 5 attribute names (non-empty strings)."""
    if dimensions is None:
        return
    if not isinstance(dimensions, list) or len(dimensions) > MAX_DIMENSIONS:
        raise ConfigError(path, f"must be a list of at most {MAX_DIMENSIONS} attribute names")
    for index, name in enumerate(dimensions):
        require_key_string(name, f"{path}[{index}]")


def _validate_layer(layer: object, path: str) -> None:
    if not isinstance(layer, Mapping):
        raise ConfigError(path, "must be null or an object with 'key' and 'ranges'")
    require_key_string(layer.get("key"), f"{path}.key")
    ranges = layer.get("ranges")
    if not isinstance(ranges, list) or not ranges:
        raise ConfigError(f"{path}.ranges", "must be a non-empty list of [start, end] pairs")
    for index, pair in enumerate(ranges):
        pair_path = f"{path}.ranges[{index}]"
        if (
            not isinstance(pair, Sequence)
            or isinstance(pair, str)
            or len(pair) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair)
            or not 0 <= pair[0] < pair[1] <= LAYER_BUCKETS
        ):
            raise ConfigError(
                pair_path, f"must be [start, end] integers with 0 <= start < end <= {LAYER_BUCKETS}"
            )
    ordered = sorted((pair[0], pair[1], index) for index, pair in enumerate(ranges))
    for previous, current in zip(ordered, ordered[1:], strict=False):
        if current[0] < previous[1]:
            raise ConfigError(f"{path}.ranges[{current[2]}]", "ranges must not overlap")


def _validate_override_hashes(overrides: object, variant_keys: list[str], path: str) -> None:
    if overrides is None:
        return
    if not isinstance(overrides, Mapping):
        raise ConfigError(path, "must be an object mapping override digests to variant keys")
    for digest, variant in overrides.items():
        if not isinstance(digest, str) or not _OVERRIDE_DIGEST.fullmatch(digest):
            raise ConfigError(f"{path}.{digest}", "must be 16 lowercase hex digits")
        if variant not in variant_keys:
            raise ConfigError(f"{path}.{digest}", "must be the key of one of the variants")


def _claim_layer_ranges(
    experiment: Mapping[str, Any], path: str, taken: dict[str, list[tuple[int, int]]]
) -> None:
    """Add the experiment's layer ranges to `taken` (layer key -> ranges), refusing overlaps."""
    layer = experiment.get("layer")
    if layer is None:
        return
    layer_key: str = layer["key"]
    ranges = [(int(a), int(b)) for a, b in layer["ranges"]]
    for start, end in ranges:
        for other_start, other_end in taken.get(layer_key, []):
            if start < other_end and other_start < end:
                raise ConfigError(
                    f"{path}.layer.ranges",
                    f"overlap another experiment's ranges in layer '{layer_key}'",
                )
    taken.setdefault(layer_key, []).extend(ranges)


def check_config(config: object) -> tuple[list[Mapping[str, Any]], list[ConfigError]]:
    """Split a config document into valid experiments and the errors of the others.

    Raises :class:`ConfigError` only when the document as a whole is unusable (not an object,
    unsupported ``version``, ``experiments`` not a list). An experiment that repeats an earlier
    key, or whose layer ranges overlap an earlier experiment's in the same layer, is refused.
    """
    if not isinstance(config, Mapping):
        raise ConfigError("config", "must be an object")
    if config.get("version") != CONFIG_VERSION:
        raise ConfigError("version", f"this SDK understands config version {CONFIG_VERSION}")
    experiments = config.get("experiments")
    if not isinstance(experiments, list):
        raise ConfigError("experiments", "must be a list")
    valid: list[Mapping[str, Any]] = []
    errors: list[ConfigError] = []
    taken_keys: set[str] = set()
    taken_ranges: dict[str, list[tuple[int, int]]] = {}
    for index, experiment in enumerate(experiments):
        path = f"experiments[{index}]"
        try:
            validate_experiment(experiment, path)
            if experiment["key"] in taken_keys:
                raise ConfigError(f"{path}.key", "experiment keys must be unique")
            _claim_layer_ranges(experiment, path, taken_ranges)
        except ConfigError as error:
            errors.append(error)
            continue
        taken_keys.add(experiment["key"])
        valid.append(experiment)
    return valid, errors


def validate_config(config: object) -> None:
    """Raise the first :class:`ConfigError` of a config document (its experiments, then its
    holdouts), or return if it is valid."""
    _, errors = check_config(config)
    if not errors:
        _, errors = check_holdouts(config)  # type: ignore[arg-type]  # check_config: a Mapping
    if errors:
        raise errors[0]
