"""The garbage collector's settings of a server process: collections are rare while the service
is imported, and at Python's own thresholds once its start-up heap is frozen."""

from __future__ import annotations

import subprocess
import sys

START = """
import gc
assert gc.get_threshold() == (700, 10, 10), gc.get_threshold()
import api
from api.runtime import STARTUP_GC_THRESHOLDS, freeze_startup_heap
assert gc.get_threshold() == STARTUP_GC_THRESHOLDS, gc.get_threshold()
freeze_startup_heap()
assert gc.get_threshold() == (700, 10, 10), gc.get_threshold()
assert gc.get_freeze_count() > 0
"""


def test_collections_are_rare_while_importing_and_usual_once_frozen() -> None:
    # A new interpreter: this one has imported the service long ago, at the tests' thresholds.
    ran = subprocess.run([sys.executable, "-c", START], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
