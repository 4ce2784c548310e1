"""Loader for sdk/testvectors.json, shared by the SDK's and the server's tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TESTVECTORS_PATH = Path(__file__).resolve().parents[2] / "sdk" / "testvectors.json"


def load_testvectors() -> dict[str, Any]:
    """Return the parsed test vector document (keys ``hashes`` and ``cases``)."""
    with TESTVECTORS_PATH.open(encoding="utf-8") as handle:
        document: dict[str, Any] = json.load(handle)
    return document
