"""The browser SDK (sdk/js) assigns exactly like the Python SDK on thousands of random cases:
weights, traffic, layers, targeting, stopped experiments, overrides, unicode and whitespace ids,
bad attributes. Both evaluate the same seeded cases; Node runs the JS evaluator once."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from vekst_sdk import ConfigError
from vekst_sdk.spec import Evaluator, override_digest, validate_config

EVALUATE = Path(__file__).resolve().parents[2] / "sdk" / "js" / "tools" / "evaluate.mjs"
ATTRIBUTE_VALUES: list[Any] = ["NO", "SE", "mobile", "", 0, 1, 1.0, 649.5, -3, True, False, "1"]
# Whitespace and near-whitespace: Python's str.isspace() set differs from JavaScript's \s.
ODD_IDS = ["\u0085", "\u001c\u001f", "\ufeff", "\u200b", " \u3000 ", "\t", "a\u2028", "\u180e"]


def _condition(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    if depth < 2 and rng.random() < 0.3:
        combinator = rng.choice(["all", "any", "not"])
        if combinator == "not":
            return {"not": _condition(rng, depth + 1)}
        return {combinator: [_condition(rng, depth + 1) for _ in range(rng.randint(1, 3))]}
    attribute = rng.choice(["country", "device", "cart_value", "returning"])
    op = rng.choice(
        ["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "exists", "starts_with", "matches"]
    )
    if op == "exists":
        return {"attribute": attribute, "op": op, "value": rng.random() < 0.5}
    if op in ("gt", "gte", "lt", "lte"):
        return {"attribute": attribute, "op": op, "value": rng.choice([0, 1, 500, 649.5, -1])}
    if op in ("in", "not_in"):
        return {"attribute": attribute, "op": op, "value": rng.sample(ATTRIBUTE_VALUES, 3)}
    if op in ("starts_with", "matches"):
        return {
            "attribute": attribute,
            "op": op,
            "value": rng.choice(["", "*", "N*", "*O", "m*b*e"]),
        }
    return {"attribute": attribute, "op": op, "value": rng.choice(ATTRIBUTE_VALUES)}


def _experiment(rng: random.Random, index: int, layers: dict[str, int]) -> dict[str, Any]:
    count = rng.randint(2, 10)
    weights = [rng.choice([1, 2, 3, 0.001, 0.5, 999, rng.random() + 1e-6]) for _ in range(count)]
    experiment: dict[str, Any] = {
        "key": f"exp-{index}",
        "salt": f"{rng.getrandbits(64):016x}",
        "status": "running" if rng.random() < 0.85 else "stopped",
        "unit_type": "visitor",
        "variants": [
            {"key": f"v{i}", "weight": w, "payload": {"i": i}} for i, w in enumerate(weights)
        ],
        "traffic": rng.choice([1.0, 1.0, 0.5, 0.1, 0.999, rng.random() + 1e-9]),
        "targeting": _condition(rng) if rng.random() < 0.4 else None,
        "layer": None,
        "override_hashes": {},
        "winner": None,
    }
    if rng.random() < 0.3:
        forced = rng.choice(["qa-anna", "visitor-7", "Ærlig-Øyvind"])
        digest = override_digest(experiment["salt"], forced)
        experiment["override_hashes"] = {digest: f"v{rng.randrange(count)}"}
    if experiment["status"] == "stopped" and rng.random() < 0.5:
        experiment["winner"] = f"v{rng.randrange(count)}"
    if rng.random() < 0.3:
        key = rng.choice(["checkout", "cta"])
        start = layers.get(key, 0)
        width = rng.randint(1, 2500)
        if start + width <= 10_000:
            experiment["layer"] = {"key": key, "ranges": [[start, start + width]]}
            layers[key] = start + width
    return experiment


def _unit_ids(rng: random.Random) -> list[Any]:
    ids: list[Any] = [f"visitor-{rng.getrandbits(40)}" for _ in range(60)]
    ids += ["qa-anna", "visitor-7", "Ærlig-Øyvind", "用户-42", "🛒🛍️", "e\u0301", "x" * 256]
    ids += ["y" * 257, ""]
    ids += ["lone \ud800 surrogate", "\udc00", "🛒" * 256, "🛒" * 257, *ODD_IDS]
    return ids


def _attributes(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.3:
        return None
    if roll < 0.35:
        return rng.choice([{"nested": {"a": 1}}, {"list": [1]}, {"none": None}, {"": 1}])
    names = rng.sample(["country", "device", "cart_value", "returning"], rng.randint(0, 4))
    return {name: rng.choice(ATTRIBUTE_VALUES) for name in names}


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("VEKST_REQUIRE_BROWSER") == "1":
            pytest.fail("node is not installed (VEKST_REQUIRE_BROWSER=1)")
        pytest.skip("node is not installed: the browser SDK cannot be compared")
    return node


@pytest.mark.processes
def test_js_and_python_agree_on_random_cases() -> None:
    node = _node()
    rng = random.Random(20261129)
    layers: dict[str, int] = {}
    experiments = []
    for index in range(60):
        candidate = _experiment(rng, index, layers)
        try:
            validate_config({"version": 1, "experiments": [candidate]})
        except ConfigError:
            continue
        experiments.append(candidate)
    config = {"version": 1, "experiments": experiments}
    overrides = {"exp-1": {"visitor-7": "v1"}, "exp-2": {"qa-anna": "v0"}}
    python = Evaluator(config, overrides=overrides)
    cases = [
        [experiment["key"], unit_id, _attributes(rng)]
        for experiment in experiments
        for unit_id in _unit_ids(rng)
    ]
    cases += [["missing", "visitor-1", None]]
    expected = []
    for key, unit_id, attributes in cases:
        result = python.assign(key, unit_id, attributes)
        expected.append([result.variant, result.in_experiment, str(result.reason)])

    payload = json.dumps({"config": config, "overrides": overrides, "cases": cases})
    completed = subprocess.run(
        [node, str(EVALUATE)], input=payload, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    answers = json.loads(completed.stdout)
    assert len(answers) == len(cases) > 3000
    mismatches = [
        (case, want, got)
        for case, want, got in zip(cases, expected, answers, strict=True)
        if want != got
    ]
    assert not mismatches, mismatches[:5]
    reasons = {answer[2] for answer in answers}
    assert {"split", "not_in_traffic", "not_targeted", "override", "invalid_input"} <= reasons
    assert {"winner", "stopped"} <= reasons
