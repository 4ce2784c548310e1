"""sdk/testvectors.json: the SDK and an independent reference must both give each answer."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sdk.reference import spec_assign, spec_hash, spec_override_digest
from tests.sdk.vectors import load_testvectors
from vekst_sdk import AssignmentReason, MemoryStickyStore
from vekst_sdk.spec import Evaluator, layer_bucket, murmur3_32, override_digest

VECTORS = load_testvectors()
CASES = VECTORS["cases"]
# Reasons the client gives around the evaluation of a definition (no config loaded yet, a key not
# in it, an internal failure): no case, one definition and one unit, can reach them.
CLIENT_REASONS = {
    AssignmentReason.NOT_READY,
    AssignmentReason.UNKNOWN_EXPERIMENT,
    AssignmentReason.ERROR,
}


def _case_id(case: dict[str, Any]) -> str:
    return f"{case['name']}|{case['unit_id'][:20]!r}"


def test_file_covers_what_the_spec_promises() -> None:
    assert len(CASES) >= 300
    # Every reason a definition can give (docs/assignment.md, section 6) has its cases.
    reasons = {case["expected_reason"] for case in CASES}
    assert reasons == {str(reason) for reason in AssignmentReason if reason not in CLIENT_REASONS}
    variant_counts = {len(case["experiment"]["variants"]) for case in CASES}
    assert 10 in variant_counts
    assert any(case["experiment"]["layer"] for case in CASES)
    assert any(not case["unit_id"].isascii() for case in CASES)
    assert any(case["experiment"]["override_hashes"] for case in CASES)
    assert any("override_digest" in item for item in VECTORS["hashes"])


def test_a_known_override_digest() -> None:
    # Two 32-bit MurmurHash3 values (seeds 0 and 1) of "override:9f2c1d0e7a4b:visitor-1".
    assert override_digest("9f2c1d0e7a4b", "visitor-1") == "ed8133c11dcb1da2"
    assert spec_override_digest("9f2c1d0e7a4b", "visitor-1") == "ed8133c11dcb1da2"


@pytest.mark.parametrize("item", VECTORS["hashes"])
def test_hash_values(item: dict[str, Any]) -> None:
    if "text" in item:
        assert murmur3_32(item["text"]) == item["murmur3_32"] == spec_hash(item["text"])
    elif "override_digest" in item:
        salt, unit_id = item["salt"], item["unit_id"]
        digest = spec_override_digest(salt, unit_id)
        assert override_digest(salt, unit_id) == item["override_digest"] == digest
    else:
        expected = spec_hash(f"layer:{item['layer_key']}:{item['unit_id']}") * 10000 >> 32
        assert layer_bucket(item["layer_key"], item["unit_id"]) == item["bucket"] == expected


def _store_of(entries: list[dict[str, Any]]) -> dict[tuple[str, int, str], str]:
    return {(e["experiment"], e["version"], e["unit_id"]): e["variant"] for e in entries}


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_case(case: dict[str, Any]) -> None:
    experiment = case["experiment"]
    overrides = case["client_overrides"]
    config: dict[str, Any] = {"version": 1, "experiments": [experiment]}
    if "holdouts" in case:
        config["holdouts"] = case["holdouts"]
    store = None
    if "sticky_store" in case:
        store = MemoryStickyStore()
        for entry in case["sticky_store"]:
            store.put(entry["experiment"], entry["version"], entry["unit_id"], entry["variant"])
    evaluator = Evaluator(
        config,
        overrides={experiment["key"]: overrides} if overrides else None,
        sticky_store=store,
    )
    result = evaluator.assign(experiment["key"], case["unit_id"], case["attributes"])
    expected = (case["expected_variant"], case["expected_in_experiment"])
    assert (result.variant, result.in_experiment) == expected
    assert str(result.reason) == case["expected_reason"]
    reference_store = _store_of(case.get("sticky_store", []))
    reference = spec_assign(
        experiment,
        case["unit_id"],
        case["attributes"],
        overrides,
        case.get("holdouts"),
        reference_store,
    )
    assert reference == expected
    if store is not None:
        after = _store_of(case["expected_sticky_store"])
        assert reference_store == after
        assert {key: store.get(*key) for key in after} == after
        assert len(store) == len(after)
    if "holdouts" in case:
        exposure = evaluator.holdout_exposure(case["unit_id"], result)
        got = (
            None
            if exposure is None
            else {"experiment": exposure.experiment, "variant": exposure.variant}
        )
        assert got == case["expected_holdout_exposure"]


def test_sticky_and_holdout_cases_cover_the_contract() -> None:
    """Every prior store state and holdout situation of the brief has its cases."""
    names = {case["name"] for case in CASES}
    for name in (
        "sticky, kept",
        "sticky, version bumped",
        "sticky, variant removed",
        "sticky, weights changed",
        "sticky, traffic lowered",
        "sticky, stopped",
        "holdout, holdout",
        "holdout, measurement",
        "holdout, neither",
        "holdout, holdout, stopped with a winner",
        "holdout, holdout, override wins",
        "holdout, holdout, another unit type",
    ):
        assert name in names
    groups = {(case.get("expected_holdout_exposure") or {}).get("variant") for case in CASES}
    assert {"holdout", "measurement"} <= groups


@pytest.mark.parametrize("item", VECTORS["exposure_attributes"])
def test_exposure_attributes(item: dict[str, Any]) -> None:
    """An exposure carries the given attributes that the experiment names as dimensions."""
    experiment = item["experiment"]
    evaluator = Evaluator({"version": 1, "experiments": [experiment]})
    assert evaluator.assign(experiment["key"], "visitor-1", item["attributes"]).in_experiment
    picked = evaluator.exposure_attributes(experiment["key"], item["attributes"])
    assert picked == item["expected"]
    assert picked is None or list(picked) == [
        name for name in experiment["dimensions"] if name in picked
    ]
