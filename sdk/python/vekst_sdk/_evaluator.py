"""Offline evaluation of a config document: compiled once, then pure and allocation-free.

The server imports :class:`Evaluator` for ``POST /v1/assign``, so there is one Python
implementation of the algorithm in docs/assignment.md.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping
from typing import Any

import mmh3

from vekst_sdk._assignment import Assignment, AssignmentReason, freeze_payload
from vekst_sdk._config import check_config
from vekst_sdk._errors import InvalidInputError
from vekst_sdk._hashing import (
    HASH_SEED,
    HASH_SPACE,
    LAYER_BUCKETS,
    OVERRIDE_SEEDS,
    layer_prefix,
    override_digest,
    override_prefix,
    traffic_prefix,
    traffic_threshold,
    variant_prefix,
    variant_upper_bounds,
)
from vekst_sdk._holdouts import CompiledHoldout, HoldoutExposure, check_holdouts, covering
from vekst_sdk._inputs import MAX_UNIT_ID_LENGTH, storable, unit_id_problem, validate_attributes
from vekst_sdk._sticky import StickyStore
from vekst_sdk._targeting import Predicate, compile_targeting

#: Receives (experiment key, field path, rule) when input is refused.
InvalidInputHandler = Callable[[str, str, str], None]
#: Per-experiment QA overrides: experiment key -> {unit id -> variant key}.
OverrideMap = Mapping[str, Mapping[str, str]]

_EMPTY_ATTRIBUTES: Mapping[str, Any] = {}
# The reasons of an evaluation that reached the holdout step (docs/assignment.md, section 6):
# only these log a holdout exposure (a QA override or a refused input never does).
_PAST_HOLDOUT = frozenset(
    {
        AssignmentReason.SPLIT,
        AssignmentReason.STICKY,
        AssignmentReason.HOLDOUT,
        AssignmentReason.NOT_TARGETED,
        AssignmentReason.NOT_IN_TRAFFIC,
        AssignmentReason.WINNER,
    }
)


def _ignore_invalid_input(experiment: str, path: str, rule: str) -> None:
    del experiment, path, rule


class CompiledExperiment:
    """One experiment reduced to prefixes, integer bounds and precreated results."""

    __slots__ = (
        "key",
        "_static",
        "_variant_prefix",
        "_traffic_prefix",
        "_threshold",
        "_layer_prefix",
        "_layer_ranges",
        "_bounds",
        "_split",
        "_override_prefix",
        "_overrides",
        "_predicate",
        "_not_targeted",
        "_not_in_traffic",
        "_invalid",
        "error_result",
        "_on_invalid",
        "_dimensions",
        "holdout",
        "_held_out",
        "_sticky_store",
        "_sticky_version",
        "_sticky",
        "_variant_keys",
    )

    def __init__(
        self,
        experiment: Mapping[str, Any],
        extra_overrides: Mapping[str, str],
        on_invalid: InvalidInputHandler,
        holdout: CompiledHoldout | None = None,
        sticky_store: StickyStore | None = None,
    ) -> None:
        key: str = experiment["key"]
        variants = experiment["variants"]
        payloads = {v["key"]: freeze_payload(v.get("payload")) for v in variants}
        control: str = variants[0]["key"]

        def result(variant: str, in_experiment: bool, reason: AssignmentReason) -> Assignment:
            return Assignment(key, variant, payloads[variant], in_experiment, reason)

        self.key = key
        self._on_invalid = on_invalid
        self._dimensions: tuple[str, ...] = tuple(experiment.get("dimensions") or ())
        self._static: Assignment | None = None
        if experiment["status"] != "running":
            winner = experiment.get("winner")
            self._static = (
                result(winner, False, AssignmentReason.WINNER)
                if winner is not None
                else result(control, False, AssignmentReason.STOPPED)
            )
        salt: str = experiment["salt"]
        self._variant_prefix = variant_prefix(salt)
        self._traffic_prefix = traffic_prefix(salt)
        layer = experiment.get("layer")
        self._layer_prefix: str | None = None
        self._layer_ranges: tuple[tuple[int, int], ...] = ()
        self._threshold: int | None = None
        if layer is not None:
            self._layer_prefix = layer_prefix(layer["key"])
            self._layer_ranges = tuple(sorted((int(a), int(b)) for a, b in layer["ranges"]))
        else:
            threshold = traffic_threshold(experiment.get("traffic", 1.0))
            # Full traffic skips the inclusion hash: every hash is below 2**32.
            self._threshold = threshold if threshold < HASH_SPACE else None
        bounds = variant_upper_bounds([float(v["weight"]) for v in variants])
        self._bounds = bounds[:-1]
        self._split = tuple(result(v["key"], True, AssignmentReason.SPLIT) for v in variants)
        # The config publishes overrides under digests of the unit ids (docs/assignment.md,
        # section 6); the client's own, given in clear, join them as digests and win. They are
        # kept as first hash -> second hash -> result, so a unit costs one hash, not two.
        self._override_prefix = override_prefix(salt)
        forced = dict(experiment.get("override_hashes") or {})
        forced.update(
            (override_digest(salt, unit), variant)
            for unit, variant in extra_overrides.items()
            if unit_id_problem(unit) is None
        )
        self._overrides: dict[int, dict[int, Assignment]] = {}
        for digest, variant in forced.items():
            if variant in payloads:
                seconds = self._overrides.setdefault(int(digest[:8], 16), {})
                seconds[int(digest[8:], 16)] = result(variant, False, AssignmentReason.OVERRIDE)
        self._predicate: Predicate | None = compile_targeting(experiment.get("targeting"))
        self._not_targeted = result(control, False, AssignmentReason.NOT_TARGETED)
        self._not_in_traffic = result(control, False, AssignmentReason.NOT_IN_TRAFFIC)
        self._invalid = result(control, False, AssignmentReason.INVALID_INPUT)
        self.error_result = result(control, False, AssignmentReason.ERROR)
        # A holdout applies while the experiment runs, and over a winner's rollout; a stop
        # without a winner already shows everyone the control.
        applies = experiment["status"] == "running" or experiment.get("winner") is not None
        self.holdout = holdout if applies else None
        self._held_out = result(control, False, AssignmentReason.HOLDOUT)
        # Stickiness applies to running experiments only; the store is consulted when the
        # config names a `sticky_version`.
        version = experiment.get("sticky_version")
        self._sticky_version: int = version or 0
        self._sticky_store = sticky_store if version is not None and self._static is None else None
        self._variant_keys: tuple[str, ...] = tuple(v["key"] for v in variants)
        self._sticky = {v["key"]: result(v["key"], True, AssignmentReason.STICKY) for v in variants}

    def assign(self, unit_id: str, attributes: Mapping[str, Any] | None) -> Assignment:
        """Assign ``unit_id``; bad input yields the control with reason ``INVALID_INPUT``."""
        if self._static is not None:
            return self._stopped(unit_id)
        if (
            not isinstance(unit_id, str)
            or not unit_id
            or len(unit_id) > MAX_UNIT_ID_LENGTH
            or unit_id.isspace()
            # mmh3 crashes the interpreter on lone surrogates instead of raising, so non-ASCII
            # ids are checked for UTF-8 encodability first (isascii is O(1) in CPython).
            or (not unit_id.isascii() and unit_id_problem(unit_id) is not None)
        ):
            return self._refuse_unit(unit_id)
        forced = self._forced(unit_id)
        if forced is not None:
            return forced
        if attributes is not None:
            try:
                validate_attributes(attributes)
            except InvalidInputError as error:
                self._on_invalid(self.key, error.path, error.message)
                return self._invalid
        if self.holdout is not None and self.holdout.holds_out(unit_id):
            return self._held_out
        predicate = self._predicate
        if predicate is not None and not predicate(
            _EMPTY_ATTRIBUTES if attributes is None else attributes
        ):
            return self._not_targeted
        return self._draw(unit_id)

    def _draw(self, unit_id: str) -> Assignment:
        """A targeted unit: its kept variant of a sticky experiment, else by the traffic (or
        layer) and variant hashes; a sticky experiment keeps the fresh split."""
        store = self._sticky_store
        if store is not None:
            stored = store.get(self.key, self._sticky_version, unit_id)
            # (A variant no longer in the experiment is not kept: the unit is hashed again.)
            kept = None if stored is None else self._sticky.get(stored)
            if kept is not None:
                return kept
        if self._layer_prefix is not None:
            bucket = (
                mmh3.hash(self._layer_prefix + unit_id, HASH_SEED, False) * LAYER_BUCKETS
            ) >> 32
            if not any(start <= bucket < end for start, end in self._layer_ranges):
                return self._not_in_traffic
        elif (
            self._threshold is not None
            and mmh3.hash(self._traffic_prefix + unit_id, HASH_SEED, False) >= self._threshold
        ):
            return self._not_in_traffic
        hashed = mmh3.hash(self._variant_prefix + unit_id, HASH_SEED, False)
        index = bisect_right(self._bounds, hashed)
        if store is not None:
            store.put(self.key, self._sticky_version, unit_id, self._variant_keys[index])
        return self._split[index]

    def _stopped(self, unit_id: str) -> Assignment:
        """A stopped experiment: its winner or control for everyone, but the control for a unit
        its holdout holds out (a unit id that cannot be hashed is in no holdout)."""
        static: Assignment = self._static  # type: ignore[assignment]
        holdout = self.holdout
        if holdout is None or unit_id_problem(unit_id) is not None:
            return static
        return self._held_out if holdout.holds_out(unit_id) else static

    def exposure_attributes(self, attributes: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """The attributes an exposure carries: those of ``attributes`` (already validated by
        :meth:`assign`) that the experiment names as dimensions, in their order, whose values
        the server can store; ``None`` when there are none."""
        if not attributes or not self._dimensions:
            return None
        picked = {
            name: attributes[name]
            for name in self._dimensions
            if name in attributes and storable(attributes[name])
        }
        return picked or None

    def _forced(self, unit_id: str) -> Assignment | None:
        """The unit's QA override, looked up by its two override hashes (the second, and the
        first, only computed when needed)."""
        if not self._overrides:
            return None
        text = self._override_prefix + unit_id
        seconds = self._overrides.get(mmh3.hash(text, OVERRIDE_SEEDS[0], False))
        return None if seconds is None else seconds.get(mmh3.hash(text, OVERRIDE_SEEDS[1], False))

    def _refuse_unit(self, unit_id: object) -> Assignment:
        self._on_invalid(self.key, "unit_id", unit_id_problem(unit_id) or "is not valid")
        return self._invalid


class Evaluator:
    """Assigns units from one config document, offline and without side effects.

    ``overrides`` (experiment key -> unit id -> variant key) take precedence over the config's
    own (published as digests, ``override_hashes``); entries naming an unknown variant or an
    invalid unit id are ignored. With ``strict`` (the
    default) an invalid experiment raises :class:`ConfigError`; otherwise it is left out
    (assigning it gives ``UNKNOWN_EXPERIMENT``) and listed in :attr:`errors`.
    """

    __slots__ = ("_experiments", "errors", "generated_at")

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        overrides: OverrideMap | None = None,
        strict: bool = True,
        on_invalid_input: InvalidInputHandler | None = None,
        sticky_store: StickyStore | None = None,
    ) -> None:
        valid, errors = check_config(config)
        holdouts, holdout_errors = check_holdouts(config)
        errors += holdout_errors
        if strict and errors:
            raise errors[0]
        self.errors = tuple(errors)
        self.generated_at: object = config.get("generated_at")
        handler = on_invalid_input or _ignore_invalid_input
        overrides = overrides or {}
        self._experiments: dict[str, CompiledExperiment] = {
            experiment["key"]: CompiledExperiment(
                experiment,
                overrides.get(experiment["key"], {}),
                handler,
                covering(holdouts, experiment["key"], experiment["unit_type"]),
                sticky_store,
            )
            for experiment in valid
        }

    @property
    def experiment_keys(self) -> frozenset[str]:
        """The keys of the experiments this evaluator can assign."""
        return frozenset(self._experiments)

    def assign(
        self, experiment_key: str, unit_id: str, attributes: Mapping[str, Any] | None = None
    ) -> Assignment:
        """Return the unit's assignment; never raises for bad keys, unit ids or attributes."""
        try:
            experiment = self._experiments.get(experiment_key)
        except TypeError:  # an unhashable key (a list, a dict) names no experiment
            experiment = None
        if experiment is None:
            return unknown_experiment(experiment_key)
        return experiment.assign(unit_id, attributes)

    def exposure_attributes(
        self, experiment_key: str, attributes: Mapping[str, Any] | None
    ) -> dict[str, Any] | None:
        """The attributes an exposure of ``experiment_key`` carries: those of ``attributes``
        the experiment names as dimensions (docs/events.md), or ``None``."""
        experiment = self._experiments.get(experiment_key)
        return None if experiment is None else experiment.exposure_attributes(attributes)

    def holdout_exposure(self, unit_id: str, assignment: Assignment) -> HoldoutExposure | None:
        """The holdout exposure that ``assignment`` (of ``unit_id``) logs besides its own: when
        a holdout covers the experiment and the unit is in its holdout or measurement group,
        unless the evaluation stopped before the holdout (a QA override, refused input)."""
        experiment = self._experiments.get(assignment.experiment)
        if experiment is None or experiment.holdout is None:
            return None
        if assignment.reason not in _PAST_HOLDOUT:
            return None
        # (A stopped experiment's winner is served without a look at the unit id.)
        if assignment.reason is AssignmentReason.WINNER and unit_id_problem(unit_id) is not None:
            return None
        return experiment.holdout.exposure(unit_id)

    def fallback(self, experiment_key: str) -> Assignment:
        """The result after an internal failure: control, or ``None`` for an unknown key."""
        try:
            experiment = self._experiments.get(experiment_key)
        except TypeError:
            experiment = None
        if experiment is None:
            return Assignment(str(experiment_key), None, None, False, AssignmentReason.ERROR)
        return experiment.error_result


def unknown_experiment(experiment_key: str) -> Assignment:
    """The result for an experiment key that is not in the config."""
    return Assignment(str(experiment_key), None, None, False, AssignmentReason.UNKNOWN_EXPERIMENT)
