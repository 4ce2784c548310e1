"""The public surface of vekst_sdk (the client) and of vekst_sdk.spec (what the server borrows)
is exactly what sdk/python/README.md documents, and the server imports only the spec module."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import vekst_sdk
import vekst_sdk.spec

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "sdk" / "python" / "README.md"
# Named in the spec section's sentence rather than its list: the client's types it also holds.
SHARED_WITH_THE_CLIENT = {
    "Assignment",
    "AssignmentReason",
    "thaw_payload",
    "VekstSdkError",
    "ConfigError",
    "TargetingError",
    "InvalidInputError",
    "StickyStore",
    "MemoryStickyStore",
}


def documented_names(heading: str) -> set[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^- `([A-Za-z_0-9]+)", section, flags=re.MULTILINE))


def test_all_matches_the_readme() -> None:
    assert set(vekst_sdk.__all__) == documented_names("Public API")


def test_the_spec_module_matches_the_readme() -> None:
    documented = documented_names("Specification module") | SHARED_WITH_THE_CLIENT
    assert set(vekst_sdk.spec.__all__) == documented
    assert all(hasattr(vekst_sdk.spec, name) for name in vekst_sdk.spec.__all__)


def test_the_client_surface_holds_nothing_only_the_server_needs() -> None:
    server_only = set(vekst_sdk.spec.__all__) - SHARED_WITH_THE_CLIENT
    assert not server_only & set(vars(vekst_sdk))


def test_the_server_imports_only_the_spec_module() -> None:
    imported = set()
    for package in ("api", "experiments"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("vekst_sdk"):
                    imported.add(node.module)
                elif isinstance(node, ast.Import):
                    imported |= {a.name for a in node.names if a.name.startswith("vekst_sdk")}
    assert imported == {"vekst_sdk.spec"}


def test_every_exported_name_exists_and_nothing_else_is_public() -> None:
    for name in vekst_sdk.__all__:
        assert hasattr(vekst_sdk, name)
    public = {
        name
        for name in vars(vekst_sdk)
        if not name.startswith("_")
        and name not in {"annotations", "openfeature", "spec", "sticky_redis"}
    }
    assert public == set(vekst_sdk.__all__)


def test_implementation_modules_are_private() -> None:
    package = Path(vekst_sdk.__file__).parent
    modules = {path.stem for path in package.glob("*.py")} - {"__init__"}
    public = {name for name in modules if not name.startswith("_")}
    assert public == {"openfeature", "spec", "sticky_redis"}
