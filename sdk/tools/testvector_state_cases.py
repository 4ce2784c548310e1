"""The sticky-assignment and holdout cases of the test vectors (`generate_testvectors.py`)."""

from __future__ import annotations

import random
from typing import Any

from testvector_parts import UNIT_IDS, StoreEntry, case, experiment

from vekst_sdk.spec import Evaluator, holdout_hash


def _stored(definition: dict[str, Any], unit_id: str, variant: str, version: int = 1) -> StoreEntry:
    return {
        "experiment": definition["key"],
        "version": version,
        "unit_id": unit_id,
        "variant": variant,
    }


def _hashed_variant(definition: dict[str, Any], unit_id: str) -> str:
    """The variant the hash gives the unit (the experiment running at full traffic)."""
    plain = {**definition, "status": "running", "traffic": 1.0, "layer": None, "targeting": None}
    plain.pop("sticky_version", None)
    variant = Evaluator({"version": 1, "experiments": [plain]}).assign("exp", unit_id).variant
    assert variant is not None
    return variant


def _other(definition: dict[str, Any], variant: str) -> str:
    """A variant of the experiment other than `variant`."""
    return next(v["key"] for v in definition["variants"] if v["key"] != variant)


def build_sticky_cases() -> list[dict[str, Any]]:
    """A sticky experiment with a prior store state: kept, reshuffled, a variant gone, weights
    changed, traffic lowered, stopped, not targeted, overridden, and a non-sticky experiment."""
    rng = random.Random(20261206)
    cases = []
    for unit_id in UNIT_IDS[:6]:

        def sticky(weights: list[float] = [1, 1, 1], **changes: Any) -> dict[str, Any]:  # noqa: B006
            return experiment(
                rng, weights, sticky_version=changes.pop("sticky_version", 1), **changes
            )

        fresh = sticky()
        cases.append(case("sticky, empty store", fresh, unit_id, sticky_store=[]))
        kept = sticky()
        other = _other(kept, _hashed_variant(kept, unit_id))
        cases.append(
            case("sticky, kept", kept, unit_id, sticky_store=[_stored(kept, unit_id, other)])
        )
        cases.append(
            case(
                "sticky, another unit's entry",
                kept,
                unit_id,
                sticky_store=[_stored(kept, unit_id + "-2", other)],
            )
        )
        bumped = sticky(sticky_version=2)
        other = _other(bumped, _hashed_variant(bumped, unit_id))
        cases.append(
            case(
                "sticky, version bumped",
                bumped,
                unit_id,
                sticky_store=[_stored(bumped, unit_id, other)],
            )
        )
        removed = sticky()
        cases.append(
            case(
                "sticky, variant removed",
                removed,
                unit_id,
                sticky_store=[_stored(removed, unit_id, "gone")],
            )
        )
        reweighted = sticky([1, 1000])
        cases.append(
            case(
                "sticky, weights changed",
                reweighted,
                unit_id,
                sticky_store=[_stored(reweighted, unit_id, "v0")],
            )
        )
        lowered = sticky(traffic=0.01)
        cases.append(
            case(
                "sticky, traffic lowered",
                lowered,
                unit_id,
                sticky_store=[_stored(lowered, unit_id, "v1")],
            )
        )
        layered = sticky(layer={"key": "sticky-layer", "ranges": [[0, 1]]})
        cases.append(
            case(
                "sticky, out of its layer",
                layered,
                unit_id,
                sticky_store=[_stored(layered, unit_id, "v2")],
            )
        )
        for winner in (None, "v2"):
            stopped = sticky(status="stopped", winner=winner)
            cases.append(
                case(
                    "sticky, stopped",
                    stopped,
                    unit_id,
                    sticky_store=[_stored(stopped, unit_id, "v1")],
                )
            )
        targeted = sticky(targeting={"attribute": "country", "op": "eq", "value": "NO"})
        entry = [_stored(targeted, unit_id, "v1")]
        cases.append(
            case("sticky, not targeted", targeted, unit_id, {"country": "SE"}, sticky_store=entry)
        )
        cases.append(
            case("sticky, targeted", targeted, unit_id, {"country": "NO"}, sticky_store=entry)
        )
        forced = sticky()
        cases.append(
            case(
                "sticky, override wins",
                forced,
                unit_id,
                client_overrides={unit_id: "v0"},
                sticky_store=[_stored(forced, unit_id, "v2")],
            )
        )
        plain = experiment(rng, [1, 1, 1])
        other = _other(plain, _hashed_variant(plain, unit_id))
        cases.append(
            case(
                "not sticky, store ignored",
                plain,
                unit_id,
                sticky_store=[_stored(plain, unit_id, other)],
            )
        )
    return cases


def _holdout(rng: random.Random, **changes: Any) -> dict[str, Any]:
    holdout = {
        "key": "holdout-q1",
        "salt": f"{rng.getrandbits(64):016x}",
        "share": 0.1,
        "unit_type": "visitor",
        "experiments": ["exp"],
    }
    holdout.update(changes)
    return holdout


def _units_by_group(holdout: dict[str, Any]) -> dict[str, list[str]]:
    """Three unit ids of each group (holdout, measurement, neither) of `holdout`."""
    threshold = int(holdout["share"] * 2**32)
    groups: dict[str, list[str]] = {"holdout": [], "measurement": [], "neither": []}
    number = 0
    while min(len(units) for units in groups.values()) < 3:
        unit_id = f"visitor-{number}"
        hashed = holdout_hash(holdout["salt"], unit_id)
        group = (
            "holdout"
            if hashed < threshold
            else "measurement"
            if hashed < 2 * threshold
            else "neither"
        )
        if len(groups[group]) < 3:
            groups[group].append(unit_id)
        number += 1
    return groups


def build_holdout_cases() -> list[dict[str, Any]]:
    """A holdout over the experiment: each group, stopped with and without a winner, a QA
    override, another unit type, an experiment it does not cover, targeting and stickiness."""
    rng = random.Random(20261207)
    cases = []
    holdout = _holdout(rng)
    groups = _units_by_group(holdout)
    targeting = {"attribute": "country", "op": "eq", "value": "NO"}
    for group, units in groups.items():
        for unit_id in units:
            named = f"holdout, {group}"
            covered = [holdout]
            cases.append(case(named, experiment(rng, [1, 1]), unit_id, holdouts=covered))
            winner = experiment(rng, [1, 1, 1], status="stopped", winner="v2")
            cases.append(case(f"{named}, stopped with a winner", winner, unit_id, holdouts=covered))
            stopped = experiment(rng, [1, 1], status="stopped")
            cases.append(case(f"{named}, stopped", stopped, unit_id, holdouts=covered))
            cases.append(
                case(
                    f"{named}, override wins",
                    experiment(rng, [1, 1]),
                    unit_id,
                    client_overrides={unit_id: "v1"},
                    holdouts=covered,
                )
            )
            other_units = [_holdout(rng, salt=holdout["salt"], unit_type="subscriber")]
            cases.append(
                case(
                    f"{named}, another unit type",
                    experiment(rng, [1, 1]),
                    unit_id,
                    holdouts=other_units,
                )
            )
            elsewhere = [_holdout(rng, salt=holdout["salt"], experiments=["other"])]
            cases.append(
                case(f"{named}, not covered", experiment(rng, [1, 1]), unit_id, holdouts=elsewhere)
            )
            targeted = experiment(rng, [1, 1], targeting=targeting)
            cases.append(
                case(
                    f"{named}, not targeted", targeted, unit_id, {"country": "SE"}, holdouts=covered
                )
            )
            cases.append(
                case(
                    f"{named}, invalid attributes",
                    experiment(rng, [1, 1]),
                    unit_id,
                    {"nested": {"no": 1}},
                    holdouts=covered,
                )
            )
            sticky = experiment(rng, [1, 1], sticky_version=3)
            cases.append(
                case(
                    f"{named}, sticky",
                    sticky,
                    unit_id,
                    holdouts=covered,
                    sticky_store=[_stored(sticky, unit_id, "v1", 3)],
                )
            )
    for bad in ["", "lone \ud800 surrogate"]:
        winner = experiment(rng, [1, 1], status="stopped", winner="v1")
        cases.append(
            case("holdout, stopped with a winner, invalid unit id", winner, bad, holdouts=[holdout])
        )
    return cases
