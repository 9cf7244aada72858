"""Bulk passes: the cyclic garbage collector paused while a pass allocates hundreds of
thousands of objects that hold no reference cycles (rows, scores, tickets). Each full
collection walks every live object, so at 200,000 orders the collector alone cost triage
about a third of its time; reference counting still frees everything as usual, and the
collector runs again when the last pass ends."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector for the block (nested and concurrent blocks share one
    pause; the collector's own setting is restored when the last one ends)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
