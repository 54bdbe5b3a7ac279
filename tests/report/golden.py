"""Golden files: compare output with ``tests/report/golden/<name>``.

Set ``PAPERCLIP_UPDATE_GOLDEN=1`` to rewrite them after an intended change (those tests then
skip, so a rewrite never passes silently as a check); review the diff before committing.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parent / "golden"


def check(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("PAPERCLIP_UPDATE_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8")
        pytest.skip(f"rewrote {path}")
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = "\n".join(difflib.unified_diff(
            expected.splitlines(), actual.splitlines(), f"golden/{name}", "actual",
            lineterm="", n=1))
        pytest.fail(f"output differs from golden/{name} (PAPERCLIP_UPDATE_GOLDEN=1 rewrites "
                    f"it):\n{diff[:6000]}")
