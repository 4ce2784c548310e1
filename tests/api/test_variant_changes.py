"""No-code changes (issue #25): a variant's `changes`, `css` and `redirect` are validated and
bounded when defined (a 422 naming the path, `variants[1].changes[3].value`), stored, shown and
served in the SDK config; the Python SDK ignores them. The shared cases of
sdk/testvectors.json (`changes`) are the list the browser SDK is held to as well."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.variant_changes import change_problem, css_problem, redirect_problem, url_problem
from tests.accounts import log_in
from tests.api.helpers import EXPERIMENT, assert_problem, create, experiment_body, start
from tests.databases import sqlite_only
from vekst_sdk.spec import Evaluator

Headers = dict[str, str]
VECTORS = json.loads(
    (Path(__file__).resolve().parents[2] / "sdk" / "testvectors.json").read_text("utf-8")
)
CTA = [
    {"selector": "#buy", "action": "text", "value": "Legg i handlekurven"},
    {
        "selector": "#hero img",
        "action": "image",
        "src": "https://cdn.shop.example/hero-b.jpg",
        "srcset": "https://cdn.shop.example/hero-b.jpg 1x, /img/hero-b@2x.jpg 2x",
    },
]


def _variants(**treatment: Any) -> list[dict[str, Any]]:
    """The demo's two variants, the treatment (variants[1]) carrying `treatment`."""
    control, other = experiment_body()["variants"][:2]
    return [control, {**other, **treatment}]


KEPT = [item for item in VECTORS["changes"] if item["refused"] is None]
REFUSED = [item for item in VECTORS["changes"] if item["refused"] is not None]


@pytest.mark.parametrize("item", KEPT, ids=[str(n) for n in range(len(KEPT))])
def test_every_shared_case_kept_by_the_browser_sdk_is_stored_as_sent(
    client: TestClient, admin_headers: Headers, item: dict[str, Any]
) -> None:
    body = experiment_body(variants=_variants(**item["variant"]))
    response = client.post("/v1/experiments", json=body, headers=admin_headers)
    assert response.status_code == 201, response.text
    stored = response.json()["variants"][1]
    assert {name: stored[name] for name in item["variant"]} == item["variant"]


# Refused before anything is stored: a refusal gone missing shows on SQLite as a 201 (with
# change_problem answering None, 23 of the SQLite refusals below fail; without the NUL rule of
# experiments/inputs.py, the `nul` hostile value does).
@sqlite_only
@pytest.mark.parametrize("item", REFUSED, ids=[item["refused"] for item in REFUSED])
def test_every_shared_case_refused_by_the_browser_sdk_is_refused(
    client: TestClient, admin_headers: Headers, item: dict[str, Any]
) -> None:
    body = experiment_body(variants=_variants(**item["variant"]))
    response = client.post("/v1/experiments", json=body, headers=admin_headers)
    assert_problem(response, 422, f"variants[1].{item['refused']}")


def test_the_cta_template_change_is_served_and_the_python_sdk_ignores_it(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers
) -> None:
    variants = _variants(changes=CTA, css="#buy { font-weight: 700 }")
    create(client, admin_headers, variants=variants)
    start(client, admin_headers)
    config = client.get("/v1/sdk/config", headers=sdk_headers).json()
    [served] = config["experiments"]
    control, treatment = served["variants"][:2]
    assert "changes" not in control and "redirect" not in control
    assert treatment["changes"] == CTA and treatment["css"] == "#buy { font-weight: 700 }"
    # The Python SDK reads the same document and assigns as before.
    assert Evaluator(config).assign(EXPERIMENT, "visitor-1").reason == "split"


def test_the_public_experiment_shows_the_fields_and_null_where_none(
    client: TestClient, admin_headers: Headers
) -> None:
    created = create(client, admin_headers, variants=_variants(redirect="/product/42-b"))
    assert created["variants"][0]["redirect"] is None
    assert created["variants"][1]["redirect"] == "/product/42-b"


@sqlite_only  # refused before anything is stored
def test_a_patch_is_checked_by_the_same_rules(client: TestClient, admin_headers: Headers) -> None:
    create(client, admin_headers)
    bad = [*CTA, {"selector": "#x", "action": "text", "value": "<script>x</script>"}]
    response = client.patch(
        f"/v1/experiments/{EXPERIMENT}",
        json={"variants": _variants(changes=bad)},
        headers=admin_headers,
    )
    body = assert_problem(response, 422, "variants[1].changes[2].value")
    assert "plain text" in body["errors"][0]["rule"]


@pytest.mark.parametrize(
    "value",
    ["\x00", "\ud800", 1e308, 2**70, [], {"selector": "#a"}, None, True],
    ids=["nul", "surrogate", "huge-float", "huge-int", "list", "no-action", "null", "bool"],
)
@sqlite_only  # refused before anything is stored: without the rule SQLite answers 201 or 500
def test_hostile_values_inside_a_change_are_422(
    client: TestClient, admin_headers: Headers, value: Any
) -> None:
    change: Any = {"selector": "#buy", "action": "text", "value": value}
    body = json.dumps(experiment_body(variants=_variants(changes=[change])))  # (ASCII escapes)
    headers = {**admin_headers, "Content-Type": "application/json"}
    response = client.post("/v1/experiments", content=body, headers=headers)
    assert_problem(response, 422)


def test_an_empty_change_list_and_empty_css_are_kept(
    client: TestClient, admin_headers: Headers
) -> None:
    created = create(client, admin_headers, variants=_variants(changes=[], css=""))
    assert created["variants"][1]["changes"] == [] and created["variants"][1]["css"] == ""


TEXT = st.text(max_size=60)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="javscript:dtJ \t\n/\x01", max_size=16))
def test_no_accepted_url_has_another_scheme_to_the_browser(url: str) -> None:
    # A browser drops leading spaces and controls, and tabs and newlines anywhere.
    seen = "".join(ch for ch in url.lstrip("\x00 \x01") if ch not in "\t\n").lower()
    if url_problem(url) is None:
        assert not seen.startswith(("javascript:", "data:", "vbscript:"))


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_rules_never_raise(text: str) -> None:
    css_problem(text, 100)
    redirect_problem(text)
    change_problem({"selector": text, "action": "attribute", "name": "srcset", "value": text})


@sqlite_only  # what the page links to
def test_the_experiment_page_gives_a_preview_link_per_variant(
    client: TestClient, admin_headers: Headers
) -> None:
    targeting = {"attribute": "url", "op": "starts_with", "value": "https://shop.example/product/"}
    create(client, admin_headers, variants=_variants(changes=CTA), targeting=targeting)
    create(client, admin_headers, key="plain")
    log_in(client)
    html = client.get(f"/experiments/{EXPERIMENT}").text
    for variant in ("multi-step", "one-page"):
        # (Each carries a signed token: tests/api/test_sdk_preview.py.)
        link = f"https://shop.example/product/?vekst_preview={EXPERIMENT}:{variant}:"
        assert f'href="{link}' in html, html
    assert "it works before the experiment starts too" in html
    assert "Preview on the shop" not in client.get("/experiments/plain").text
