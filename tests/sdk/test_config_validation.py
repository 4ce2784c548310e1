"""Config document and input validation: every refusal names the field and the rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sdk.fake_server import config_document
from vekst_sdk import ConfigError, InvalidInputError
from vekst_sdk.spec import (
    Evaluator,
    validate_attributes,
    validate_config,
    validate_experiment,
    validate_unit_id,
)


def experiment(**changes: Any) -> dict[str, Any]:
    """The documented example experiment with ``changes`` applied."""
    definition: dict[str, Any] = config_document(**changes)["experiments"][0]
    return definition


def test_the_documented_example_is_valid() -> None:
    validate_config(
        {"version": 1, "generated_at": "2026-11-23T12:00:00Z", "experiments": [experiment()]}
    )


@pytest.mark.parametrize(
    ("changes", "path", "rule"),
    [
        ({"key": ""}, "experiment.key", "non-empty"),
        ({"salt": "ab:cd"}, "experiment.salt", "without ':'"),
        ({"status": "draft"}, "experiment.status", "running, stopped"),
        ({"variants": [{"key": "a", "weight": 1}]}, "experiment.variants", "2 to 10"),
        (
            {"variants": [{"key": "a", "weight": 1}, {"key": "a", "weight": 1}]},
            "experiment.variants[1].key",
            "unique",
        ),
        (
            {"variants": [{"key": "a", "weight": 1}, {"key": "b", "weight": 0}]},
            "experiment.variants[1].weight",
            "0 < weight",
        ),
        (
            {"variants": [{"key": "a", "weight": 1}, {"key": "b", "weight": True}]},
            "experiment.variants[1].weight",
            "number",
        ),
        (
            {"variants": [{"key": "a", "weight": 1e12}, {"key": "b", "weight": 1e-9}]},
            "experiment.variants[1].weight",
            "no units",
        ),
        ({"traffic": 0}, "experiment.traffic", "0 < traffic <= 1"),
        ({"traffic": 1.5}, "experiment.traffic", "0 < traffic <= 1"),
        ({"layer": {"key": "l", "ranges": [[0, 10_001]]}}, "experiment.layer.ranges[0]", "<="),
        (
            {"layer": {"key": "l", "ranges": [[0, 50], [40, 60]]}},
            "experiment.layer.ranges[1]",
            "overlap",
        ),
        ({"targeting": {"attribute": "x", "op": "??"}}, "experiment.targeting.op", "unknown"),
        (
            {"override_hashes": {"4e4275902f9b6805": "nope"}},
            "experiment.override_hashes.4e4275902f9b6805",
            "one of the variants",
        ),
        (
            {"override_hashes": {"qa-anna": "one-page"}},
            "experiment.override_hashes.qa-anna",
            "16 lowercase hex digits",
        ),
        ({"override_hashes": ["qa-anna"]}, "experiment.override_hashes", "an object"),
        ({"winner": "one-page"}, "experiment.winner", "only a stopped"),
        ({"status": "stopped", "winner": "x"}, "experiment.winner", "one of the variants"),
    ],
)
def test_experiment_refusals(changes: dict[str, Any], path: str, rule: str) -> None:
    with pytest.raises(ConfigError) as caught:
        validate_experiment(experiment(**changes))
    assert caught.value.path == path
    assert rule in caught.value.message


def test_cross_experiment_rules() -> None:
    layer_a = {"key": "checkout", "ranges": [[0, 5000]]}
    layer_b = {"key": "checkout", "ranges": [[4000, 6000]]}
    document = {
        "version": 1,
        "experiments": [
            experiment(key="a", layer=layer_a),
            experiment(key="b", layer=layer_b),
            experiment(key="a"),
        ],
    }
    with pytest.raises(ConfigError, match="overlap"):
        validate_config(document)
    lenient = Evaluator(document, strict=False)
    assert lenient.experiment_keys == {"a"}
    assert [error.path for error in lenient.errors] == [
        "experiments[1].layer.ranges",
        "experiments[2].key",
    ]


def test_document_level_errors() -> None:
    with pytest.raises(ConfigError) as caught:
        validate_config({"version": 2, "experiments": []})
    assert caught.value.path == "version"
    with pytest.raises(ConfigError, match="experiments"):
        validate_config({"version": 1})


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    validate_config({"version": 1, "experiments": [experiment(new_field=1)], "extra": True})


def test_overrides_in_clear_are_an_unknown_field_now() -> None:
    # A config from a server before override digests: its clear `overrides` force no one (the
    # SDK neither refuses the experiment nor reads the ids), as an old SDK ignores the digests.
    old = experiment(override_hashes=None, overrides={"qa-anna": "one-page", "": 7})
    evaluator = Evaluator({"version": 1, "experiments": [old]})
    assert evaluator.assign("checkout-onepage", "qa-anna").reason != "override"
    assert evaluator.assign("checkout-onepage", "qa-anna").in_experiment


@pytest.mark.parametrize(
    ("unit_id", "rule"),
    [("", "empty"), ("  ", "empty"), ("x" * 257, "256"), (7, "string"), ("a\udc00", "Unicode")],
)
def test_unit_id_refusals(unit_id: Any, rule: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        validate_unit_id(unit_id)
    assert caught.value.path == "unit_id"
    assert rule in caught.value.message


@pytest.mark.parametrize(
    ("attributes", "path"),
    [
        ([("country", "NO")], "attributes"),
        ({"cart": {"value": 1}}, "attributes.cart"),
        ({"tags": ["a"]}, "attributes.tags"),
        ({"cart_value": float("nan")}, "attributes.cart_value"),
        ({"coupon": None}, "attributes.coupon"),
        ({"": 1}, "attributes."),
    ],
)
def test_attribute_refusals(attributes: Any, path: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        validate_attributes(attributes)
    assert caught.value.path == path


def test_flat_attributes_are_accepted() -> None:
    validate_attributes({"country": "NO", "cart_value": 649.0, "items": 3, "returning": True})
