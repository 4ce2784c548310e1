"""Request bodies shared by API tests."""

from __future__ import annotations

from typing import Any


def experiment_body(key: str = "checkout-onepage", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "key": key,
        "name": "One-page checkout",
        "hypothesis": "A one-page checkout raises purchase conversion",
        "template": "checkout",
        "variants": [
            {
                "key": "multi-step",
                "name": "Multi-step",
                "weight": 1,
                "payload": {"layout": "multi"},
            },
            {"key": "one-page", "name": "One page", "weight": 1, "payload": {"layout": "one"}},
        ],
    }
    body.update(changes)
    return body
