"""Debian's ``chromium``, headless, for the rendering checks (skipped when it is absent)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium")

requires_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (apt-get install -y chromium): the headless "
           "rendering checks are skipped")

# Flags that keep a headless run offline and free of first-run work.
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--no-first-run",
          "--disable-extensions", "--disable-default-apps")
# Lets the page's async work (inflating a gzipped transcript) finish before capture.
_SETTLE_MS = 10_000


def run(url: str, *extra: str, profile: Path, timeout: float = 60) -> str:
    """Run chromium on ``url`` and return its stdout; its whole process group is killed after."""
    assert CHROMIUM is not None
    command = [CHROMIUM, *_FLAGS, f"--user-data-dir={profile}",
               f"--virtual-time-budget={_SETTLE_MS}", *extra, url]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               start_new_session=True, text=True)
    try:
        out, _ = process.communicate(timeout=timeout)
    finally:
        # Chromium leaves helper processes (zygote, renderer) in its group: end them all.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
    if process.returncode != 0:
        raise AssertionError(f"chromium exited {process.returncode} on {url}")
    return out


def screenshot(page: Path, png: Path, *, profile: Path, size: str = "1400,900") -> bytes:
    """Render ``page`` headless to ``png`` and return the PNG's bytes."""
    run(page.resolve().as_uri(), f"--screenshot={png}", f"--window-size={size}",
        profile=profile)
    return png.read_bytes()


def dump_dom(url: str, *, profile: Path) -> str:
    """The page's DOM after its scripts ran."""
    return run(url, "--dump-dom", profile=profile)
