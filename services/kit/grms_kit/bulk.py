"""Bulk work in a long-running service: the cyclic garbage collector held back while it runs.

A 150,000-line import allocates millions of small objects that all stay alive until it
commits; with the default thresholds (700, 10, 10) the collector walks them again and again
(~27 % of the import's CPU, measured in bench (i)). `bulk_work()` freezes what the process
held before (`gc.freeze()`: never walked while frozen) and raises the first threshold so
the young objects are walked about every 100,000 allocations instead of every 700.

Decision: never `gc.disable()` — a service keeps serving other requests meanwhile, and
their garbage cycles must still be collected. Nesting and threads are counted: the first
caller in changes the settings, the last one out restores them (in `finally`, also on error).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["BULK_THRESHOLD", "bulk_work"]

BULK_THRESHOLD = 100_000

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, ...] = ()
_froze = False


@contextmanager
def bulk_work() -> Iterator[None]:
    """Run the body with the collector relaxed; the process's settings come back when the last bulk job ends."""
    global _depth, _saved, _froze
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            _froze = gc.get_freeze_count() == 0  # a process frozen by someone else (a pre-fork server) stays so
            if _froze:
                gc.freeze()
            gc.set_threshold(max(BULK_THRESHOLD, _saved[0]), *_saved[1:])
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.set_threshold(*_saved)
                if _froze:
                    gc.unfreeze()
