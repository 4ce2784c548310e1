"""Process-level tuning for long-running server and worker processes."""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Move everything built so far out of the garbage collector's generations.

    A server process holds ~150,000 start-up objects (modules, the app, compiled configs) for
    its whole life; without this every full collection walks them again, which under event
    load took about a fifth of an API worker's time.
    """
    gc.collect()
    gc.freeze()
