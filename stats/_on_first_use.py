"""A module imported at its first use, for scipy: loading it costs about a third of a second of
CPU, paid by every process that imports the engine (each server, worker and CLI command),
though most never analyse anything.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class OnFirstUse:
    """Stands for the module ``name`` in the globals of ``owner`` (a module) under ``alias``;
    the first attribute read imports the module and puts it there in its place, so every later
    call reads the module itself, at no extra cost."""

    def __init__(self, name: str, owner: str, alias: str) -> None:
        self._name, self._owner, self._alias = name, owner, alias

    def __getattr__(self, attribute: str) -> Any:
        module: ModuleType = importlib.import_module(self._name)
        setattr(importlib.import_module(self._owner), self._alias, module)
        return getattr(module, attribute)
