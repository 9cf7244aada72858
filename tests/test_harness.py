"""The test harness itself: what the fork server and the workers' shared caches must not
change about the tests."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_every_test_module_imported_was_assert_rewritten():
    """Whichever process wrote a module's cached bytecode (any worker, ``rewritten_pycs``),
    its asserts are pytest's: a failing one explains its values."""
    loaded = [
        m
        for name, m in list(sys.modules.items())
        if name.startswith("test_") and Path(getattr(m, "__file__", "") or "").parent == HERE
    ]
    assert any(m.__name__ == __name__ for m in loaded)
    plain = [m.__name__ for m in loaded if "@pytest_ar" not in vars(m)]
    assert not plain, f"imported without pytest's assertion rewriting: {plain}"
