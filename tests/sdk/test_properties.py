"""Statistical and structural properties of assignment, each over 100,000 ids."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest
from scipy.stats import chi2_contingency, chisquare

from tests.sdk.fake_server import config_experiment
from vekst_sdk import AssignmentReason
from vekst_sdk.spec import Evaluator

N = 100_000
IDS = [f"visitor-{number}" for number in range(N)]


def experiment(key: str, salt: str, weights: Sequence[float], **changes: Any) -> dict[str, Any]:
    """A running experiment without overrides whose variants v0, v1, ... carry `weights`."""
    variants = [{"key": f"v{i}", "weight": w} for i, w in enumerate(weights)]
    return config_experiment(key=key, salt=salt, variants=variants, override_hashes={}, **changes)


def evaluator(*experiments: dict[str, Any]) -> Evaluator:
    return Evaluator({"version": 1, "experiments": list(experiments)})


def variants(ev: Evaluator, key: str, ids: list[str] = IDS) -> list[str | None]:
    return [ev.assign(key, unit_id).variant for unit_id in ids]


DETERMINISM_SCRIPT = """
import json, sys
from vekst_sdk.spec import Evaluator
config = json.loads(sys.stdin.read())
ev = Evaluator(config)
print(json.dumps([ev.assign("exp", f"visitor-{n}").variant for n in range(%d)]))
"""


@pytest.mark.processes
def test_deterministic_across_processes() -> None:
    config = {"version": 1, "experiments": [experiment("exp", "9f2c1d0e7a4b", [1, 2, 3])]}
    completed = subprocess.run(
        [sys.executable, "-c", DETERMINISM_SCRIPT % N],
        input=json.dumps(config),
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(completed.stdout) == variants(Evaluator(config), "exp")


def test_shares_match_weights() -> None:
    weights = [1, 2, 3, 4]
    counts = Counter(variants(evaluator(experiment("exp", "a1b2c3", weights)), "exp"))
    observed = [counts[f"v{i}"] for i in range(len(weights))]
    expected = [N * w / sum(weights) for w in weights]
    assert chisquare(observed, expected).pvalue > 0.001


def test_extreme_weights_are_honoured() -> None:
    counts = Counter(variants(evaluator(experiment("exp", "5eed", [1, 999])), "exp"))
    assert chisquare([counts["v0"], counts["v1"]], [N / 1000, N * 999 / 1000]).pvalue > 0.001


def test_two_experiments_are_independent() -> None:
    ev = evaluator(experiment("a", "0a0a0a", [1, 1]), experiment("b", "0b0b0b", [1, 1, 1]))
    table = Counter(zip(variants(ev, "a"), variants(ev, "b"), strict=True))
    contingency = [[table[(f"v{i}", f"v{j}")] for j in range(3)] for i in range(2)]
    assert chi2_contingency(contingency).pvalue > 0.001


def test_raising_traffic_only_adds_units() -> None:
    previous: list[str | None] | None = None
    previous_in: list[bool] = []
    for traffic in (0.1, 0.25, 0.5, 1.0):
        ev = evaluator(experiment("exp", "77aa", [1, 1], traffic=traffic))
        results = [ev.assign("exp", unit_id) for unit_id in IDS]
        included = [result.in_experiment for result in results]
        share = sum(included) / N
        assert abs(share - traffic) < 0.01
        if previous is not None:
            for index, was_in in enumerate(previous_in):
                if was_in:
                    assert included[index]
                    assert results[index].variant == previous[index]
        previous = [result.variant for result in results]
        previous_in = included


def test_traffic_does_not_bias_the_split() -> None:
    ev = evaluator(experiment("exp", "31337", [1, 1], traffic=0.3))
    counts = Counter(r.variant for r in (ev.assign("exp", u) for u in IDS) if r.in_experiment)
    total = counts["v0"] + counts["v1"]
    assert chisquare([counts["v0"], counts["v1"]], [total / 2, total / 2]).pvalue > 0.001


def test_layer_experiments_never_share_a_unit() -> None:
    def layered(key: str, ranges: list[list[int]]) -> dict[str, Any]:
        return experiment(key, key + "00", [1, 1], layer={"key": "checkout", "ranges": ranges})

    ev = evaluator(
        layered("a", [[0, 2500], [6000, 7000]]),
        layered("b", [[2500, 6000]]),
        layered("c", [[7000, 10_000]]),
    )
    memberships = [
        [ev.assign(key, unit_id).in_experiment for key in ("a", "b", "c")] for unit_id in IDS
    ]
    assert all(sum(row) == 1 for row in memberships)
    shares = [sum(row[i] for row in memberships) / N for i in range(3)]
    for share, width in zip(shares, (0.35, 0.35, 0.30), strict=True):
        assert abs(share - width) < 0.01


def test_unicode_ids_are_hashed_as_given() -> None:
    ev = evaluator(experiment("exp", "abc", [1, 1]))
    composed, decomposed = "\u00e9-visitor", "e\u0301-visitor"
    assert ev.assign("exp", composed).in_experiment
    assert ev.assign("exp", decomposed).in_experiment
    unicode_ids = [f"kunde-{n}-æøå-用户-🛒" for n in range(20_000)]
    counts = Counter(variants(ev, "exp", unicode_ids))
    assert chisquare([counts["v0"], counts["v1"]]).pvalue > 0.001


def test_bad_unit_ids_get_the_control_outside_the_experiment() -> None:
    ev = evaluator(experiment("exp", "abc", [1, 1]))
    for bad in ["", " ", "\t\n", "\u3000", "x" * 257, "lone \ud800", None, 42]:
        result = ev.assign("exp", bad)  # type: ignore[arg-type]
        assert (result.variant, result.in_experiment) == ("v0", False)
        assert result.reason is AssignmentReason.INVALID_INPUT
    assert ev.assign("exp", "x" * 256).in_experiment
    assert ev.assign("exp", " padded ").in_experiment


def test_whitespace_definition_matches_the_documented_list() -> None:
    documented = {
        *range(0x09, 0x0E),
        *range(0x1C, 0x21),
        0x85,
        0xA0,
        0x1680,
        *range(0x2000, 0x200B),
        0x2028,
        0x2029,
        0x202F,
        0x205F,
        0x3000,
    }
    actual = {code for code in range(0x110000) if chr(code).isspace()}
    assert actual == documented
