"""The test modules' assert-rewritten bytecode, shared out among the xdist workers when it is
missing (a fresh checkout, or after edits): before collecting, worker i of n writes the
cached file of every n-th module from the i-th, then collects as usual. Otherwise each
worker rewrote and compiled all of them itself, about 1.7 s apiece, all at once.

Each file is the one pytest's import hook would write (its own functions, its cache path,
its atomic rename), for modules the hook itself would rewrite, so a worker that gets to a
module before its writer has just rewrites it, as before. The functions are pytest's
internals (pytest is pinned in constraints.txt): if they change, this writes nothing and the
workers rewrite."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path


def write_share(modules: list[Path], index: int, count: int) -> int:
    """Rewrite and cache the modules ``index``, ``index + count``, … of ``modules`` that have
    no current cached version; how many were written (0 whatever goes wrong)."""
    with contextlib.suppress(Exception):
        return _write(modules[index::count])
    return 0


def _write(modules: list[Path]) -> int:
    from _pytest.assertion.rewrite import (
        PYC_TAIL,
        AssertionRewritingHook,
        _rewrite_test,
        _write_pyc,
        assertstate_key,
        get_cache_dir,
        try_makedirs,
    )

    hook = next((h for h in sys.meta_path if isinstance(h, AssertionRewritingHook)), None)
    if hook is None or sys.dont_write_bytecode:  # --assert=plain, or no bytecode wanted
        return 0
    state = hook.config.stash[assertstate_key]
    written = 0
    for fn in modules:
        pyc = get_cache_dir(fn) / (fn.name[:-3] + PYC_TAIL)
        if _newer(pyc, fn) or not hook._should_rewrite(fn.stem, str(fn), state):
            continue  # cached after its last edit (a worker finding it stale rewrites it)
        if not try_makedirs(pyc.parent):
            return written
        source_hash, code = _rewrite_test(fn, hook.config)
        _write_pyc(state, code, source_hash, pyc)
        written += 1
    return written


def _newer(pyc: Path, source: Path) -> bool:
    try:
        return pyc.stat().st_mtime >= source.stat().st_mtime
    except OSError:
        return False
