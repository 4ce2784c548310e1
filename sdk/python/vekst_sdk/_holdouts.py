"""Holdouts in the config document: validation, and each unit's group (docs/assignment.md).

A holdout keeps a share of units on the control of every experiment it covers. Its own hash
``hh = murmur3_32("holdout:" + salt + ":" + unit_id)`` against ``t = floor(share * 2**32)``
puts a unit in the holdout group (``hh < t``), the measurement group of the same size
(``t <= hh < 2t``) or neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import mmh3

from vekst_sdk._checks import is_number, require_key_string, validate_salt
from vekst_sdk._errors import ConfigError
from vekst_sdk._hashing import HASH_SEED, holdout_prefix, traffic_threshold

HOLDOUT_GROUP = "holdout"
MEASUREMENT_GROUP = "measurement"
#: The largest share: the holdout and measurement groups together hold at most every unit.
MAX_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class HoldoutExposure:
    """The exposure a unit of a holdout's two groups logs: ``experiment`` is the holdout's key,
    ``variant`` the group (``holdout`` or ``measurement``)."""

    experiment: str
    variant: str


class CompiledHoldout:
    """One holdout reduced to its hash prefix, threshold and precreated exposures."""

    __slots__ = ("key", "unit_type", "experiments", "_prefix", "_threshold", "_groups")

    def __init__(self, holdout: Mapping[str, Any]) -> None:
        self.key: str = holdout["key"]
        self.unit_type: str = holdout["unit_type"]
        self.experiments = frozenset(holdout["experiments"])
        self._prefix = holdout_prefix(holdout["salt"])
        self._threshold = traffic_threshold(holdout["share"])
        self._groups = (
            HoldoutExposure(self.key, HOLDOUT_GROUP),
            HoldoutExposure(self.key, MEASUREMENT_GROUP),
        )

    def exposure(self, unit_id: str) -> HoldoutExposure | None:
        """The unit's group as the exposure it logs, or ``None`` when it is in neither group.
        ``unit_id`` must be a valid unit id."""
        hashed = mmh3.hash(self._prefix + unit_id, HASH_SEED, False)
        if hashed < self._threshold:
            return self._groups[0]
        return self._groups[1] if hashed < 2 * self._threshold else None

    def holds_out(self, unit_id: str) -> bool:
        """Whether the unit is in the holdout group (it sees every covered experiment's control)."""
        return mmh3.hash(self._prefix + unit_id, HASH_SEED, False) < self._threshold


def validate_holdout(holdout: object, path: str) -> None:
    """Check one entry of the config's ``holdouts``; raise :class:`ConfigError`."""
    if not isinstance(holdout, Mapping):
        raise ConfigError(path, "a holdout must be an object")
    require_key_string(holdout.get("key"), f"{path}.key")
    validate_salt(holdout.get("salt"), f"{path}.salt")
    share = holdout.get("share")
    if not is_number(share) or not 0 < share <= MAX_SHARE:
        raise ConfigError(f"{path}.share", f"must be a number with 0 < share <= {MAX_SHARE}")
    require_key_string(holdout.get("unit_type"), f"{path}.unit_type")
    experiments = holdout.get("experiments")
    if not isinstance(experiments, list):
        raise ConfigError(f"{path}.experiments", "must be a list of experiment keys")
    for index, key in enumerate(experiments):
        require_key_string(key, f"{path}.experiments[{index}]")


def check_holdouts(config: Mapping[str, Any]) -> tuple[list[CompiledHoldout], list[ConfigError]]:
    """The config's valid holdouts, compiled, and the errors of the others (left out, as
    invalid experiments are). ``holdouts`` absent or null means none; not a list is an error."""
    holdouts = config.get("holdouts")
    if holdouts is None:
        return [], []
    if not isinstance(holdouts, list):
        return [], [ConfigError("holdouts", "must be a list")]
    valid: list[CompiledHoldout] = []
    errors: list[ConfigError] = []
    for index, holdout in enumerate(holdouts):
        path = f"holdouts[{index}]"
        try:
            validate_holdout(holdout, path)
            if any(kept.key == holdout["key"] for kept in valid):
                raise ConfigError(f"{path}.key", "holdout keys must be unique")
        except ConfigError as error:
            errors.append(error)
            continue
        valid.append(CompiledHoldout(holdout))
    return valid, errors


def covering(
    holdouts: list[CompiledHoldout], experiment_key: str, unit_type: str
) -> CompiledHoldout | None:
    """The first holdout that covers the experiment and counts the same units (the server lets
    one holdout at most cover an experiment)."""
    return next(
        (h for h in holdouts if experiment_key in h.experiments and h.unit_type == unit_type),
        None,
    )
