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

from testvector_parts import (
    ATTRIBUTE_SETS,
    TARGETING,
    UNIT_IDS,
    URL_ATTRIBUTE_SETS,
    URL_TARGETING,
    WEIGHT_SETS,
    case,
    experiment,
)
from testvector_state_cases import build_holdout_cases, build_sticky_cases

from vekst_sdk.spec import Evaluator, layer_bucket, murmur3_32, override_digest

OUTPUT = Path(__file__).resolve().parents[1] / "testvectors.json"


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
