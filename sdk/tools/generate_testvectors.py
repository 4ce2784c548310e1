"""Regenerate sdk/testvectors.json from the Python SDK.

Run from the repository root: ``python sdk/tools/generate_testvectors.py``. The expected values
come from ``vekst_sdk``; the tests re-derive every one of them with an independent reference
implementation, so a regenerated file cannot silently change the algorithm.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from vekst_sdk import MemoryStickyStore
from vekst_sdk.spec import Evaluator, holdout_hash, layer_bucket, murmur3_32, override_digest

OUTPUT = Path(__file__).resolve().parents[1] / "testvectors.json"

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


def build_cases(rng: random.Random) -> list[dict[str, Any]]:
    """Several hundred cases covering weights, traffic, layers, targeting, status, overrides."""
    cases = []
    for weights in WEIGHT_SETS:
        for unit_id in UNIT_IDS:
            cases.append(case(f"weights {weights}", experiment(rng, weights), unit_id))
    for traffic in (0.05, 0.3, 0.5, 0.999):
        for number in range(20):
            definition = experiment(rng, [1, 1, 2], traffic=traffic)
            cases.append(case(f"traffic {traffic}", definition, f"visitor-{number}"))
    for number in range(60):
        start = rng.randrange(0, 9000)
        ranges = [[start, start + rng.randrange(1, 1000)], [rng.randrange(0, 10), 10_000]]
        ranges = [[0, 2500], [6000, 7000]] if number % 2 else ranges[:1]
        layer = {"key": f"layer-{number % 3}", "ranges": ranges}
        cases.append(case("layer", experiment(rng, [1, 1], layer=layer), f"visitor-{number}"))
    for condition in TARGETING:
        for attributes in ATTRIBUTE_SETS:
            definition = experiment(rng, [1, 1], targeting=condition)
            cases.append(case("targeting", definition, rng.choice(UNIT_IDS), attributes))
    for unit_id in UNIT_IDS[:8]:
        cases.append(
            case(
                "stopped, winner",
                experiment(rng, [1, 1, 1], status="stopped", winner="v2"),
                unit_id,
            )
        )
        cases.append(case("stopped, no winner", experiment(rng, [1, 1], status="stopped"), unit_id))
        forced = experiment(
            rng,
            [1, 1],
            traffic=0.01,
            targeting={"attribute": "country", "op": "eq", "value": "XX"},
        )
        forced["override_hashes"] = {override_digest(forced["salt"], "qa-anna"): "v1"}
        cases.append(case("config override", forced, unit_id))
        cases.append(
            case(
                "client override",
                experiment(rng, [1, 1, 1]),
                unit_id,
                client_overrides={unit_id: "v2"},
            )
        )
    for bad in ["", "   ", "\u3000", "x" * 257, "lone \ud800 surrogate"]:
        cases.append(case("invalid unit id", experiment(rng, [1, 1]), bad))
    cases.append(
        case("invalid attributes", experiment(rng, [1, 1]), "visitor-1", {"nested": {"no": 1}})
    )
    return cases + build_url_cases() + build_sticky_cases() + build_holdout_cases()


def build_url_cases() -> list[dict[str, Any]]:
    """URL targeting (drawn from a generator of their own, so the cases and hashes before them
    stay as they were)."""
    rng = random.Random(20261205)
    cases = []
    for condition in URL_TARGETING:
        for attributes in URL_ATTRIBUTE_SETS:
            definition = experiment(rng, [1, 1], targeting=condition)
            cases.append(case("url targeting", definition, rng.choice(UNIT_IDS), attributes))
    return cases


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


def build_hashes(rng: random.Random) -> list[dict[str, Any]]:
    """Raw hash, layer-bucket and override-digest values, for SDKs to check their hashing."""
    texts = [*UNIT_IDS[:-1], "variant:9f2c1d0e7a4b:visitor-1", "", "a", "abcd", "abcde"]
    texts += [f"traffic:{rng.getrandbits(32):08x}:{n}" for n in range(10)]
    hashes = [{"text": text, "murmur3_32": murmur3_32(text)} for text in texts]
    layers = [
        {
            "layer_key": "checkout-layer",
            "unit_id": unit_id,
            "bucket": layer_bucket("checkout-layer", unit_id),
        }
        for unit_id in UNIT_IDS[:-1]
    ]
    digests = [
        {"salt": salt, "unit_id": unit_id, "override_digest": override_digest(salt, unit_id)}
        for salt in ("9f2c1d0e7a4b", f"{rng.getrandbits(64):016x}")
        for unit_id in [*UNIT_IDS[:-1], "ceo@shop.example"]
    ]
    return [*hashes, *layers, *digests]


# The attributes a shop passes to `assign` in the exposure cases: personal data among them.
SHOP_ATTRIBUTES: dict[str, Any] = {
    "email": "kari@example.no",
    "market": "NO",
    "device": "mobile",
    "cart_value": 649,
    "logged_in": True,
    "score": 1.5,
}
DIMENSION_SETS: list[tuple[list[str] | None, dict[str, Any] | None]] = [
    (None, SHOP_ATTRIBUTES),
    ([], SHOP_ATTRIBUTES),
    (["market", "device"], SHOP_ATTRIBUTES),
    (["device", "market", "logged_in", "score", "visitor_type"], SHOP_ATTRIBUTES),
    (["source"], SHOP_ATTRIBUTES),
    (["market"], None),
    (["market"], {}),
    # Values the server cannot store are left out, not the exposure.
    (
        ["market", "device", "segment", "plan"],
        {"market": "N\x00O", "device": "m\ud800", "plan": "pro"},
    ),
    (["segment", "plan"], {"segment": 2**64, "plan": "pro"}),
]


def build_exposure_attributes(rng: random.Random) -> list[dict[str, Any]]:
    """What an exposure carries as `attributes` (None: no field) for attributes given to
    `assign`, by the experiment's dimensions."""
    items = []
    for dimensions, attributes in DIMENSION_SETS:
        definition = experiment(rng, [1, 1])
        if dimensions is not None:
            definition["dimensions"] = dimensions
        evaluator = Evaluator({"version": 1, "experiments": [definition]})
        items.append(
            {
                "experiment": definition,
                "attributes": attributes,
                "expected": evaluator.exposure_attributes(definition["key"], attributes),
            }
        )
    return items


def _change(action: str, **fields: Any) -> dict[str, Any]:
    return {"selector": "#buy", "action": action, **fields}


_SCRIPT = "javascript:alert(1)"
# No-code fields of a variant (`changes`, `css`, `redirect`) with the path of the part the
# server refuses (422 `variants[i].<path>`) and the browser SDK ignores, or null when both
# accept them (experiments/variant_changes.py and sdk/js/src/changes.js hold the rules).
CHANGE_CASES: list[tuple[dict[str, Any], str | None]] = [
    ({"changes": [_change("text", value="Legg i handlekurven")]}, None),
    ({"changes": [_change("text", value="Pris < 500 kr, 3 > 2")]}, None),
    (
        {
            "changes": [
                _change(
                    "image",
                    src="https://cdn.shop.example/cta-b.jpg",
                    srcset="https://cdn.shop.example/cta-b.jpg 1x, /img/cta-b@2x.jpg 2x",
                )
            ]
        },
        None,
    ),
    ({"changes": [_change("image", src="data:image/png;base64,iVBORw0KGgo=")]}, None),
    ({"changes": [_change("attribute", name="href", value="/checkout?from=cta")]}, None),
    ({"changes": [_change("attribute", name="aria-label", value="Kjøp nå")]}, None),
    ({"changes": [_change("class", add=["promo"], remove=["muted"])]}, None),
    ({"changes": [_change("style", property="background-color", value="#e4002b")]}, None),
    ({"changes": [_change("hide")] * 50}, None),
    ({"css": "#buy { font-weight: 700; background: url(/img/b.png) }"}, None),
    ({"redirect": "/product/42-b"}, None),
    ({"redirect": "https://b.shop.example/product/42"}, None),
    ({"changes": [_change("text", value="<script>alert(1)</script>")]}, "changes[0].value"),
    ({"changes": [_change("text", value="<img src=x onerror=alert(1)>")]}, "changes[0].value"),
    ({"changes": [_change("attribute", name="href", value=_SCRIPT)]}, "changes[0].value"),
    (
        {"changes": [_change("attribute", name="href", value="JaVaScRiPt:alert(1)")]},
        "changes[0].value",
    ),
    (
        {"changes": [_change("attribute", name="href", value="java\tscript:alert(1)")]},
        "changes[0].value",
    ),
    ({"changes": [_change("attribute", name="src", value="data:text/html,x")]}, "changes[0].value"),
    ({"changes": [_change("attribute", name="onclick", value="alert(1)")]}, "changes[0].name"),
    ({"changes": [_change("attribute", name="style", value="color:red")]}, "changes[0].name"),
    ({"changes": [{"selector": "a" * 10_000, "action": "hide"}]}, "changes[0].selector"),
    ({"changes": [_change("html", value="<b>Buy</b>")]}, "changes[0].action"),
    ({"changes": [_change("text", value="Buy", html="<b>Buy</b>")]}, "changes[0].html"),
    ({"changes": [_change("hide"), _change("image", src=_SCRIPT)]}, "changes[1].src"),
    (
        {"changes": [_change("image", src="/a.jpg", srcset=f"/a.jpg 1x, {_SCRIPT} 2x")]},
        "changes[0].srcset",
    ),
    ({"changes": [_change("image", src="/a.jpg", srcset="/a.jpg 1x,")]}, "changes[0].srcset"),
    # (`_` is no scheme character: to a browser this is a relative URL.)
    ({"changes": [_change("attribute", name="href", value="a_b:c")]}, None),
    ({"changes": [_change("class", add=["a b"])]}, "changes[0].add"),
    ({"changes": [_change("style", property="color", value="red;x:y")]}, "changes[0].value"),
    (
        {"changes": [_change("style", property="background", value=f"url({_SCRIPT})")]},
        "changes[0].value",
    ),
    ({"changes": [_change("hide")] * 51}, "changes"),
    ({"css": "@import url(https://evil.example/x.css);"}, "css"),
    ({"css": "body { width: expression(alert(1)) }"}, "css"),
    ({"css": "a { background: url(data:text/html,x) }"}, "css"),
    ({"css": "</style><script>alert(1)</script>"}, "css"),
    ({"redirect": _SCRIPT}, "redirect"),
    ({"redirect": "//evil.example/"}, "redirect"),
    ({"redirect": "http://shop.example/b"}, "redirect"),
]


def build_change_cases() -> list[dict[str, Any]]:
    return [{"variant": fields, "refused": path} for fields, path in CHANGE_CASES]


def _line(item: dict[str, Any]) -> str:
    # ASCII escapes keep the lone-surrogate case representable in a UTF-8 file.
    return json.dumps(item, sort_keys=True)


def main() -> None:
    """Write the file (sorted keys, one case per line for reviewable diffs)."""
    rng = random.Random(20261123)
    cases = build_cases(rng)
    hashes = build_hashes(rng)
    exposures = build_exposure_attributes(rng)
    changes = build_change_cases()
    lines = [
        "{",
        '  "description": "Vekst assignment test vectors; algorithm in docs/assignment.md",',
        '  "hashes": [',
        ",\n".join("    " + _line(item) for item in hashes),
        "  ],",
        '  "cases": [',
        ",\n".join("    " + _line(item) for item in cases),
        "  ],",
        '  "exposure_attributes": [',
        ",\n".join("    " + _line(item) for item in exposures),
        "  ],",
        '  "changes": [',
        ",\n".join("    " + _line(item) for item in changes),
        "  ]",
        "}",
    ]
    OUTPUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(  # noqa: T201
        f"wrote {len(cases)} cases, {len(hashes)} hash values and {len(exposures)} exposure "
        f"cases to {OUTPUT.name}"
    )


if __name__ == "__main__":
    main()
