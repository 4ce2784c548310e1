"""Every workspace form fed hostile values (NUL, lone surrogates, too much text, a number past
float range) and forged posts (no CSRF token, another's): a field error or a refusal, never a
5xx, and nothing stored.

On SQLite only: every value here is refused before it reaches the database, and a refusal
that went missing shows on SQLite too, as a 303 or 200 where a 422 is asserted (with the NUL
rule of experiments/inputs.py removed, the four text fields and the audit filters fail here)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from tests.api.pages.workspace.helpers import (
    CTA_FORM,
    Form,
    field_errors,
    post_form,
    post_raw,
)
from tests.api.test_newsletter import newsletter
from tests.conftest import ADMIN_KEY
from tests.databases import sqlite_only

pytestmark = sqlite_only
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}

# Each form: its path, a form it accepts but for the field attacked, and that field.
FORMS: list[tuple[str, Form, str]] = [
    ("/experiments/new", {**CTA_FORM, "key": "fresh"}, "name"),
    ("/experiments/draft/edit", CTA_FORM, "hypothesis"),
    ("/experiments/running/ramp", {"traffic": "0.9"}, "traffic"),
    ("/experiments/subject-line/counts", {"sent_0": "100", "sent_1": "100"}, "as_of"),
    ("/catalogue", {"key": "wish", "kind": "conversion", "numerator_event": "wish"}, "name"),
    ("/webhooks", {"events": "srm_detected"}, "url"),
    ("/keys", {"scope": "sdk"}, "name"),
]
SURROGATE = b"%ED%A0%80"  # the UTF-8-like bytes of U+D800, a lone surrogate
NOT_UTF8 = b"%FF%FE"


@pytest.fixture
def shop(admin: TestClient) -> TestClient:
    """A draft (`draft`), a running CTA test (`running`) and a running newsletter."""
    assert post_form(admin, "/experiments/new", {**CTA_FORM, "key": "draft"}).status_code == 303
    assert (
        post_form(
            admin, "/experiments/new", {**CTA_FORM, "key": "running", "traffic": "0.5"}
        ).status_code
        == 303
    )
    assert admin.post("/v1/experiments/running/start", headers=ADMIN).status_code == 200
    assert admin.post("/v1/experiments", json=newsletter(), headers=ADMIN).status_code == 201
    assert admin.post("/v1/experiments/subject-line/start", headers=ADMIN).status_code == 200
    return admin


def _state(client: TestClient) -> tuple[Any, ...]:
    experiments = client.get("/v1/experiments", headers=ADMIN).json()
    audit = client.get("/v1/audit", headers=ADMIN).json()
    return experiments["total"], len(audit["items"])


@pytest.mark.parametrize(("path", "form", "field"), FORMS)
def test_hostile_values_and_forged_posts(
    shop: TestClient, path: str, form: Form, field: str
) -> None:
    before = _state(shop)
    for csrf in (None, "", "forged-token"):
        forged = post_form(shop, path, {**form, field: "ok"}, csrf=csrf)
        assert forged.status_code == 422, forged.text
        assert "stale or not from this site" in forged.text
    assert _state(shop) == before
    nul = post_form(shop, path, {**form, field: "ab\x00c"})
    assert nul.status_code == 422, nul.text
    assert field_errors(nul.text), nul.text
    for bad in (SURROGATE, NOT_UTF8):
        others = {name: value for name, value in form.items() if name != field}
        raw = urlencode(others, doseq=True).encode() + b"&" + field.encode() + b"=x" + bad
        refused = post_raw(shop, path, raw)
        assert refused.status_code == 422, refused.text
        assert field_errors(refused.text)
        assert "\\udc" in refused.text or "\\ud8" in refused.text or "Unicode" in refused.text
    long = post_form(shop, path, {**form, field: "x" * 100_000})
    assert long.status_code == 422
    assert "at most 64 KiB" in field_errors(long.text)[field]
    huge = post_form(shop, path, {**form, field: "x" * 10_000_000})
    assert huge.status_code == 422  # over the server's body limit: left unread, said on the page
    assert field_errors(huge.text)[field].startswith("is too large: the server takes at most")
    past_float = post_form(shop, path, {**form, field: "1e400"})
    assert past_float.status_code in (303, 201, 422), past_float.text
    if past_float.status_code == 422:
        assert field_errors(past_float.text)
    assert _state(shop)[0] == before[0] + (
        path == "/experiments/new" and past_float.status_code == 303
    )


def test_numbers_and_json_out_of_range(shop: TestClient) -> None:
    wrong = {
        **CTA_FORM,
        "key": "ranges",
        "variant_weight": ["1e400", "nan"],
        "variant_payload": ["[" * 5000 + "]" * 5000, '{"n": 1e999}'],
        "traffic": "-0.5",
        "mde_relative": "inf",
        "alpha": "0.9",
        "dimensions": "a, a",
    }
    refused = post_form(shop, "/experiments/new", wrong)
    assert refused.status_code == 422
    errors = field_errors(refused.text)
    assert {"variants[0].weight", "variants[1].weight", "variants[0].payload", "traffic"} <= set(
        errors
    )
    assert "design.mde_relative" in errors and errors["design.alpha"] == "must be < 0.5"
    assert errors["variants[1].payload.n"] == "must hold finite numbers only"
    assert "named twice" in errors["dimensions[1]"]
    eleven = {
        **CTA_FORM,
        "key": "eleven",
        "variant_key": [f"v{n}" for n in range(11)],
        "variant_name": [f"V {n}" for n in range(11)],
        "variant_weight": ["1"] * 11,
        "variant_payload": [""] * 11,
    }
    too_many_variants = post_form(shop, "/experiments/new", eleven)
    assert field_errors(too_many_variants.text)["variants"] == "must have at most 10 items"
    many = urlencode({"secondary": ["conversion_rate"] * 300}, doseq=True).encode()
    too_many = post_raw(shop, "/experiments/new", many)
    assert too_many.status_code == 422 and "too many fields" in too_many.text


def test_a_form_past_the_server_limit_names_the_field_running_past_its_head(
    shop: TestClient,
) -> None:
    """Only the first 64 KiB of a form over 5 MiB are read: the field the cut falls in is the
    one named; a cut in a name names none."""
    padded = b"hypothesis=" + b"h" * 60_000 + b"&name=" + b"x" * 6_000_000
    assert field_errors(post_raw(shop, "/experiments/new", padded).text) == {
        "name": "is too large: the server takes at most 5,242,880 bytes in all"
    }
    name_only = post_raw(shop, "/catalogue", b"n" * 6_000_000 + b"=1")
    assert name_only.status_code == 422
    assert "n" * 10 not in "".join(field_errors(name_only.text))
    assert field_errors(name_only.text)["form"].startswith("is too large")
    assert _state(shop)[0] == 3


def test_audit_filters_refuse_what_they_cannot_read(shop: TestClient) -> None:
    page = shop.get("/audit", params={"entity": "nonsense", "since": "yesterday", "actor": "a\x00"})
    assert page.status_code == 422
    errors = field_errors(page.text)
    assert set(errors) == {"entity", "since", "actor"}
    assert shop.get("/audit", params={"entity_key": "x" * 100}).status_code == 422


def test_buttons_without_fields_need_the_token_too(shop: TestClient) -> None:
    made = post_form(shop, "/webhooks", {"url": "http://127.0.0.1:9/", "events": "srm_detected"})
    assert made.status_code == 201
    webhook = shop.get("/v1/webhooks", headers=ADMIN).json()[0]["id"]
    before = _state(shop)
    for path in (
        f"/webhooks/{webhook}/delete",
        "/keys/1/revoke",
        "/experiments/draft/archive",
        "/experiments/running/stop",
    ):
        for csrf in (None, "forged-token"):
            refused = post_form(shop, path, {"confirm": "yes"}, csrf=csrf)
            assert refused.status_code == 422, path
    assert _state(shop) == before
    assert shop.post("/webhooks/0/delete").status_code == 422  # ids start at 1
    assert post_form(shop, "/keys/99999/revoke", {}).status_code == 404
