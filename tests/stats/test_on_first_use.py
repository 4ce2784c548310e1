"""`stats._on_first_use`: scipy is imported at the engine's first analysis, not with it."""

from __future__ import annotations

import sys
import types

from stats._on_first_use import OnFirstUse


def test_the_first_read_imports_the_module_and_takes_its_place() -> None:
    owner = types.ModuleType("vekst_test_owner")
    sys.modules[owner.__name__] = owner
    try:
        standin = OnFirstUse("json", owner.__name__, "codec")
        vars(owner)["codec"] = standin
        assert standin.dumps([1]) == "[1]"
        assert vars(owner)["codec"] is sys.modules["json"]  # later calls read the module itself
    finally:
        del sys.modules[owner.__name__]
