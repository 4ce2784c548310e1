"""`stats._on_first_use`: scipy is imported at the engine's first analysis, not with it."""

from __future__ import annotations

import sys
import types

from stats._on_first_use import OnFirstUse


def test_the_first_read_imports_the_module_and_takes_its_place() -> None:
    owner = types.ModuleType("vekst_test_owner")
    sys.modules[owner.__name__] = owner
    try:
        owner.codec = OnFirstUse("json", owner.__name__, "codec")
        assert isinstance(owner.codec, OnFirstUse)
        assert owner.codec.dumps([1]) == "[1]"
        assert owner.codec is sys.modules["json"]  # later calls read the module itself
    finally:
        del sys.modules[owner.__name__]
