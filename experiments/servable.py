"""The server refuses every definition the SDK would refuse, so every experiment that starts
can be served: the SDK's own `validate_experiment` judges the entry the config would carry.
That entry carries overrides as digests, so their unit ids are checked here with the SDK's own
unit-id rule (an id no unit can have would override no one)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from experiments.errors import InvalidInputError
from experiments.layers import LAYER_BUCKETS
from experiments.models.experiment import Experiment, ExperimentCreate, ExperimentUpdate
from experiments.sdk_config import override_hashes
from vekst_sdk.spec import ConfigError, VekstSdkError, validate_experiment, validate_unit_id

_PREFIX = "experiment."
# A stand-in: salts and layer slices are made by the server and always valid.
_SALT = "0" * 16


def check_servable(
    key: str,
    unit_type: str,
    variants: Sequence[Mapping[str, Any]],
    traffic: float,
    targeting: dict[str, Any] | None,
    layer: str | None,
    overrides: Mapping[str, str],
) -> None:
    """Raise InvalidInputError (with the request's field path) if an SDK would refuse this
    definition, e.g. `variants[2].weight` too small against the others to receive units."""
    for unit_id in overrides:
        try:
            validate_unit_id(unit_id, f"overrides.{unit_id}")
        except VekstSdkError as error:
            raise InvalidInputError(error.path, error.message) from error
    entry = {
        "key": key,
        "salt": _SALT,
        "status": "running",
        "unit_type": unit_type,
        "variants": [{"key": v["key"], "weight": v["weight"]} for v in variants],
        "traffic": traffic,
        "targeting": targeting,
        "layer": None if layer is None else {"key": layer, "ranges": [[0, LAYER_BUCKETS]]},
        "override_hashes": override_hashes(_SALT, dict(overrides)),
    }
    try:
        validate_experiment(entry, "experiment")
    except ConfigError as error:
        raise InvalidInputError(error.path.removeprefix(_PREFIX), error.message) from error


def check_created(data: ExperimentCreate, unit_type: str) -> None:
    """`check_servable` for a new definition."""
    check_servable(
        data.key,
        unit_type,
        [variant.model_dump() for variant in data.variants],
        data.traffic,
        data.targeting,
        data.layer,
        data.overrides,
    )


def check_patched(experiment: Experiment, patch: ExperimentUpdate) -> None:
    """`check_servable` for a stored definition with `patch` applied (nothing stored yet)."""
    changes = patch.model_dump(exclude_unset=True)
    variants = (
        [variant.model_dump() for variant in patch.variants]
        if patch.variants is not None
        else experiment.variants
    )
    check_servable(
        experiment.key,
        changes.get("unit_type") or experiment.unit_type,
        variants,
        changes.get("traffic") or experiment.traffic,
        changes["targeting"] if "targeting" in changes else experiment.targeting,
        changes["layer"] if "layer" in changes else experiment.layer,
        changes.get("overrides") or experiment.overrides,
    )
