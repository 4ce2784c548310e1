"""Process-level tuning for long-running server and worker processes."""

from __future__ import annotations

import gc

# While the service is imported, the garbage collector runs at these thresholds instead of
# Python's (700, 10, 10): the import builds some 185,000 tracked objects that live as long as
# the process, and each automatic collection on the way traverses them again (about a tenth of
# the import's CPU). `api/__init__.py` sets them; `freeze_startup_heap` restores the defaults.
STARTUP_GC_THRESHOLDS = (50_000, 20, 20)
_RUNNING_GC_THRESHOLDS = gc.get_threshold()


def collect_rarely_while_starting() -> None:
    """Run the garbage collector at `STARTUP_GC_THRESHOLDS` until `freeze_startup_heap`."""
    gc.set_threshold(*STARTUP_GC_THRESHOLDS)


def freeze_startup_heap() -> None:
    """Move everything built so far out of the garbage collector's generations, and collect at
    Python's usual thresholds from now on.

    A server process holds ~150,000 start-up objects (modules, the app, compiled configs) for
    its whole life; without this every full collection walks them again, which under event
    load took about a fifth of an API worker's time.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*_RUNNING_GC_THRESHOLDS)
