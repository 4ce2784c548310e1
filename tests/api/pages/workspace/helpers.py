"""Shared steps of the workspace's page tests: posting forms with the page's own CSRF token,
reading the field errors a page shows."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import urlencode

from fastapi.testclient import TestClient

from tests.api.pages.test_pages import csrf_of

Form = dict[str, Any]

CTA_FORM: Form = {
    "template": "cta",
    "key": "cta-text",
    "name": "Buy-button text",
    "hypothesis": "Saying 'Kjøp nå' gets more clicks than 'Add to cart'.",
    "unit_type": "visitor",
    "variant_key": ["control", "kjop-na"],
    "variant_name": ["Add to cart", "Kjøp nå"],
    "variant_weight": ["1", "1"],
    "variant_payload": ['{"text": "Add to cart"}', '{"text": "Kjøp nå", "colour": "#0b6b2f"}'],
    "traffic": "0.5",
    "join": "all",
    "condition_attribute": ["country", "cart_value", ""],
    "condition_op": ["in", "gte", "eq"],
    "condition_value": ["NO, SE", "500", ""],
    "primary": "cta_click_rate",
    "secondary": ["add_to_cart_rate", "conversion_rate"],
    "guardrails": ["revenue_per_visitor"],
    "margins": "revenue_per_visitor 0.02",
    "caps": "",
    "dimensions": "device, source",
    "mde_relative": "0.1",
    "alpha": "0.05",
    "power": "0.8",
    "baseline_rate": "0.05",
    "visitors_per_day": "4000",
    "intent": "save",
}


def token(client: TestClient, page: str = "/catalogue") -> str:
    return csrf_of(client.get(page).text)


def post_form(client: TestClient, path: str, form: Form, csrf: str | None = "page") -> Any:
    """POST `form` urlencoded, with a fresh CSRF token unless `csrf` says otherwise (None:
    without one)."""
    fields = dict(form)
    if csrf == "page":
        fields["csrf"] = token(client)
    elif csrf is not None:
        fields["csrf"] = csrf
    body = urlencode(fields, doseq=True)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"}
    return client.post(path, content=body, headers=headers, follow_redirects=False)


def post_raw(client: TestClient, path: str, body: bytes) -> Any:
    """POST bytes as a form (with the page's CSRF token first), for bytes no encoder makes."""
    raw = f"csrf={token(client)}&".encode() + body
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"}
    return client.post(path, content=raw, headers=headers, follow_redirects=False)


def field_errors(html: str) -> dict[str, str]:
    """The errors a page shows beside its fields: path -> rule."""
    found = re.findall(r'<ul class="field-errors"[^>]*>(.*?)</ul>', html, flags=re.DOTALL)
    errors: dict[str, str] = {}
    for block in found:
        for path, rule in re.findall(r"<li><code>(.*?)</code> (.*?)</li>", block, re.DOTALL):
            errors[unescape(path)] = unescape(rule)
    return errors
