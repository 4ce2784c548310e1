"""The public surface of vekst_sdk is exactly what sdk/python/README.md documents."""

from __future__ import annotations

import re
from pathlib import Path

import vekst_sdk

README = Path(__file__).resolve().parents[2] / "sdk" / "python" / "README.md"


def documented_names() -> set[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Public API", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^- `([A-Za-z_0-9]+)", section, flags=re.MULTILINE))


def test_all_matches_the_readme() -> None:
    assert set(vekst_sdk.__all__) == documented_names()


def test_every_exported_name_exists_and_nothing_else_is_public() -> None:
    for name in vekst_sdk.__all__:
        assert hasattr(vekst_sdk, name)
    public = {
        name
        for name in vars(vekst_sdk)
        if not name.startswith("_") and name not in {"annotations", "openfeature"}
    }
    assert public == set(vekst_sdk.__all__)


def test_implementation_modules_are_private() -> None:
    package = Path(vekst_sdk.__file__).parent
    modules = {path.stem for path in package.glob("*.py")} - {"__init__"}
    assert {name for name in modules if not name.startswith("_")} == {"openfeature"}
