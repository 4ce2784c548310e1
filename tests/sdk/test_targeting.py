"""Targeting: validation errors name the path; evaluation agrees with the reference."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.sdk.reference import spec_condition
from vekst_sdk import TargetingError
from vekst_sdk._targeting import compile_targeting
from vekst_sdk.spec import validate_targeting

NORWAY_MOBILE = {"country": "NO", "device": "mobile", "returning": True, "cart_value": 649.0}


@pytest.mark.parametrize(
    ("condition", "attributes", "expected"),
    [
        ({"attribute": "country", "op": "eq", "value": "NO"}, NORWAY_MOBILE, True),
        ({"attribute": "country", "op": "ne", "value": "NO"}, {}, True),
        ({"attribute": "device", "op": "in", "value": ["mobile", "tablet"]}, NORWAY_MOBILE, True),
        ({"attribute": "device", "op": "not_in", "value": ["mobile"]}, NORWAY_MOBILE, False),
        ({"attribute": "cart_value", "op": "gte", "value": 649}, NORWAY_MOBILE, True),
        ({"attribute": "cart_value", "op": "gt", "value": 649}, NORWAY_MOBILE, False),
        ({"attribute": "cart_value", "op": "lt", "value": 700}, {"cart_value": "600"}, False),
        ({"attribute": "returning", "op": "eq", "value": True}, {"returning": 1}, False),
        ({"attribute": "returning", "op": "eq", "value": 1}, {"returning": 1.0}, True),
        ({"attribute": "vip", "op": "exists"}, {"vip": False}, True),
        ({"attribute": "vip", "op": "exists", "value": False}, {}, True),
        ({"not": {"attribute": "country", "op": "eq", "value": "NO"}}, NORWAY_MOBILE, False),
        (
            {
                "all": [
                    {"attribute": "country", "op": "eq", "value": "NO"},
                    {
                        "any": [
                            {"attribute": "cart_value", "op": "lte", "value": 100},
                            {"attribute": "returning", "op": "exists"},
                        ]
                    },
                ]
            },
            NORWAY_MOBILE,
            True,
        ),
    ],
)
def test_evaluation(condition: dict[str, Any], attributes: dict[str, Any], expected: bool) -> None:
    validate_targeting(condition)
    predicate = compile_targeting(condition)
    assert predicate is not None
    assert predicate(attributes) is expected
    assert spec_condition(condition, attributes) is expected


@pytest.mark.parametrize(
    ("condition", "path", "rule"),
    [
        ({"attribute": "country", "op": "like", "value": "N%"}, "targeting.op", "unknown operator"),
        ({"attribute": "country", "op": "eq"}, "targeting.value", "required"),
        ({"attribute": "x", "op": "in", "value": "NO"}, "targeting.value", "non-empty list"),
        ({"attribute": "x", "op": "in", "value": ["a", {}]}, "targeting.value[1]", "string"),
        ({"attribute": "x", "op": "gt", "value": "5"}, "targeting.value", "finite number"),
        ({"attribute": "x", "op": "gt", "value": True}, "targeting.value", "finite number"),
        ({"attribute": "x", "op": "exists", "value": "yes"}, "targeting.value", "boolean"),
        ({"attribute": "", "op": "eq", "value": 1}, "targeting.attribute", "non-empty"),
        ({"attribute": "x", "op": "eq", "value": 1, "extra": 2}, "targeting.extra", "unknown key"),
        ({"all": []}, "targeting.all", "non-empty list"),
        (
            {
                "all": [
                    {"attribute": "a", "op": "eq", "value": 1},
                    {"attribute": "b", "op": "eq", "value": [1]},
                ]
            },
            "targeting.all[1].value",
            "string, finite number or boolean",
        ),
        ({"any": [{"not": {"op": "eq"}}]}, "targeting.any[0].not", "needs 'attribute'"),
        ({"all": [], "any": []}, "targeting.any", "unknown key"),
        ("country = NO", "targeting", "must be an object"),
    ],
)
def test_validation_names_path_and_rule(condition: Any, path: str, rule: str) -> None:
    with pytest.raises(TargetingError) as caught:
        validate_targeting(condition)
    assert caught.value.path == path
    assert rule in caught.value.message


def test_depth_is_limited() -> None:
    condition: dict[str, Any] = {"attribute": "x", "op": "exists"}
    for _ in range(20):
        condition = {"not": condition}
    with pytest.raises(TargetingError, match="nest"):
        validate_targeting(condition)


SCALARS = st.one_of(
    st.sampled_from(["NO", "SE", "mobile", "desktop", ""]),
    st.integers(min_value=-1000, max_value=1000),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.booleans(),
)
NAMES = st.sampled_from(["country", "device", "cart_value", "returning"])
LEAVES = st.one_of(
    st.builds(
        lambda n, o, v: {"attribute": n, "op": o, "value": v},
        NAMES,
        st.sampled_from(["eq", "ne"]),
        SCALARS,
    ),
    st.builds(
        lambda n, o, v: {"attribute": n, "op": o, "value": v},
        NAMES,
        st.sampled_from(["in", "not_in"]),
        st.lists(SCALARS, min_size=1, max_size=4),
    ),
    st.builds(
        lambda n, o, v: {"attribute": n, "op": o, "value": v},
        NAMES,
        st.sampled_from(["gt", "gte", "lt", "lte"]),
        st.one_of(st.integers(-1000, 1000), st.floats(-1e6, 1e6, allow_nan=False)),
    ),
    st.builds(lambda n, v: {"attribute": n, "op": "exists", "value": v}, NAMES, st.booleans()),
    # Text operators on a small alphabet, so that globs with several stars do match.
    st.builds(
        lambda n, o, v: {"attribute": n, "op": o, "value": v},
        NAMES,
        st.sampled_from(["starts_with", "ends_with", "contains", "matches"]),
        st.text(alphabet="ab*/", max_size=6),
    ),
)
CONDITIONS = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.builds(lambda c: {"all": c}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda c: {"any": c}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda c: {"not": c}, children),
    ),
    max_leaves=8,
)
ATTRIBUTES = st.dictionaries(
    NAMES, st.one_of(SCALARS, st.text(alphabet="ab*/", max_size=8)), max_size=4
)


@given(CONDITIONS, ATTRIBUTES)
def test_valid_conditions_evaluate_like_the_reference(
    condition: dict[str, Any], attributes: dict[str, Any]
) -> None:
    validate_targeting(condition)
    predicate = compile_targeting(condition)
    assert predicate is not None
    assert predicate(attributes) is spec_condition(condition, attributes)


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5)),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(
            st.sampled_from(["all", "any", "not", "attribute", "op", "value", "x"]),
            children,
            max_size=3,
        ),
    ),
    max_leaves=10,
)


@given(JSON_VALUES)
# An operator that is a list or an object once raised TypeError (unhashable) instead.
@example({"attribute": "country", "op": ["in"], "value": ["NO"]})
@example({"attribute": "country", "op": {"x": 1}})
def test_arbitrary_json_is_accepted_or_refused_with_a_path(document: Any) -> None:
    try:
        validate_targeting(document)
    except TargetingError as error:
        assert error.path.startswith("targeting")
        assert error.message
    else:
        predicate = compile_targeting(document)
        if predicate is not None:
            predicate({})
