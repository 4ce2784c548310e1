"""The building blocks of the test vectors: the unit ids, weights and targeting conditions drawn
from, one experiment in the config format, and one evaluated case (`generate_testvectors.py`)."""

from __future__ import annotations

import random
from typing import Any

from vekst_sdk import MemoryStickyStore
from vekst_sdk.spec import Evaluator

UNIT_IDS = [
    "visitor-1",
    "visitor-2",
    "qa-anna",
    "Ærlig-Øyvind",
    "åse@example.no",
    "用户-42",
    "🛒🛍️",
    "e\u0301",
    "\u00e9",
    " padded ",
    "x" * 256,
    "0",
    "null",
    "a:b:c",
    "tab\tid",
]
WEIGHT_SETS = [
    [1, 1],
    [1, 999],
    [0.001, 1],
    [0.001, 0.002, 0.003],
    [1] * 10,
    [5, 3, 2],
    [0.5, 0.25, 0.25],
    [1e-6, 1e-6],
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    [33.3, 33.3, 33.4],
]
TARGETING = [
    {"attribute": "country", "op": "eq", "value": "NO"},
    {"attribute": "device", "op": "in", "value": ["mobile", "tablet"]},
    {"attribute": "returning", "op": "eq", "value": True},
    {"attribute": "cart_value", "op": "gte", "value": 500},
    {
        "all": [
            {"attribute": "country", "op": "in", "value": ["NO", "SE", "DK"]},
            {"not": {"attribute": "device", "op": "eq", "value": "desktop"}},
        ]
    },
    {
        "any": [
            {"attribute": "cart_value", "op": "gt", "value": 1000},
            {"attribute": "vip", "op": "exists"},
        ]
    },
    {"attribute": "coupon", "op": "exists", "value": False},
    {"attribute": "country", "op": "not_in", "value": ["US"]},
    {"attribute": "cart_value", "op": "lt", "value": 200.5},
]
# URL targeting: the text operators on the `url` and `path` the browser SDK supplies itself.
URL_TARGETING = [
    {"attribute": "path", "op": "starts_with", "value": "/product/"},
    {"attribute": "url", "op": "ends_with", "value": "#reviews"},
    {"attribute": "url", "op": "contains", "value": "utm_source=newsletter"},
    {"attribute": "path", "op": "matches", "value": "/product/*/reviews"},
    {"attribute": "url", "op": "matches", "value": "https://*.shop.example/*"},
    {"attribute": "path", "op": "matches", "value": "/cart"},
    {"attribute": "path", "op": "matches", "value": "*a*a*"},
    {"attribute": "path", "op": "starts_with", "value": ""},
]
URL_ATTRIBUTE_SETS: list[dict[str, Any] | None] = [
    None,
    {"url": "https://www.shop.example/product/42/reviews#reviews", "path": "/product/42/reviews"},
    {"url": "https://shop.example/cart?utm_source=newsletter", "path": "/cart"},
    {"url": "http://www.shop.example/", "path": "/a"},
    {"path": "/product/", "url": 42},
    {"path": "/banana"},
]
ATTRIBUTE_SETS: list[dict[str, Any] | None] = [
    None,
    {"country": "NO", "device": "mobile", "returning": True, "cart_value": 649.0},
    {"country": "SE", "device": "desktop", "returning": False, "cart_value": 120},
    {"country": "US", "device": "tablet", "cart_value": 1500, "vip": True},
    {"country": "DK", "coupon": "SPRING"},
    {"returning": 1, "cart_value": "700"},
]


def experiment(rng: random.Random, weights: list[float], **changes: Any) -> dict[str, Any]:
    """Build one experiment in the config format with a random salt."""
    variants = [
        {"key": f"v{index}", "weight": weight, "payload": {"index": index}}
        for index, weight in enumerate(weights)
    ]
    definition: dict[str, Any] = {
        "key": "exp",
        "salt": f"{rng.getrandbits(48):012x}",
        "status": "running",
        "unit_type": "visitor",
        "variants": variants,
        "traffic": 1.0,
        "targeting": None,
        "layer": None,
        "override_hashes": {},
        "winner": None,
    }
    definition.update(changes)
    return definition


StoreEntry = dict[str, Any]  # {"experiment", "version", "unit_id", "variant"}


def case(
    name: str,
    definition: dict[str, Any],
    unit_id: str,
    attributes: dict[str, Any] | None = None,
    client_overrides: dict[str, str] | None = None,
    *,
    holdouts: list[dict[str, Any]] | None = None,
    sticky_store: list[StoreEntry] | None = None,
) -> dict[str, Any]:
    """Evaluate one case with the SDK and record the expected answer. A case with `holdouts`
    also records the holdout exposure it logs; one with a (prior) `sticky_store` also records
    the store after the assignment."""
    overrides = {definition["key"]: client_overrides} if client_overrides else None
    config: dict[str, Any] = {"version": 1, "experiments": [definition]}
    if holdouts is not None:
        config["holdouts"] = holdouts
    store = _PrintedStore(sticky_store) if sticky_store is not None else None
    evaluator = Evaluator(config, overrides=overrides, sticky_store=store)
    result = evaluator.assign(definition["key"], unit_id, attributes)
    item = {
        "name": name,
        "experiment": definition,
        "unit_id": unit_id,
        "attributes": attributes,
        "client_overrides": client_overrides,
        "expected_variant": result.variant,
        "expected_in_experiment": result.in_experiment,
        "expected_reason": str(result.reason),
    }
    if holdouts is not None:
        exposure = evaluator.holdout_exposure(unit_id, result)
        item["holdouts"] = holdouts
        item["expected_holdout_exposure"] = (
            None
            if exposure is None
            else {"experiment": exposure.experiment, "variant": exposure.variant}
        )
    if store is not None:
        item["sticky_store"] = sticky_store
        item["expected_sticky_store"] = store.entries()
    return item


class _PrintedStore(MemoryStickyStore):
    """A memory store that lists its entries (sorted) for the file."""

    def __init__(self, entries: list[StoreEntry]) -> None:
        super().__init__()
        self._written: dict[tuple[str, int, str], str] = {}
        for entry in entries:
            self.put(entry["experiment"], entry["version"], entry["unit_id"], entry["variant"])

    def put(self, experiment: str, version: int, unit_id: str, variant: str) -> None:
        super().put(experiment, version, unit_id, variant)
        self._written[(experiment, version, unit_id)] = variant

    def entries(self) -> list[StoreEntry]:
        return [
            {"experiment": e, "version": v, "unit_id": u, "variant": variant}
            for (e, v, u), variant in sorted(self._written.items())
        ]
