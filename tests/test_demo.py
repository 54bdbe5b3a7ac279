"""The README's first command, end to end: simulator, daemon, a live run, offline replay."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

BIN = shutil.which("paperclip-supervisor", path=str(Path(sys.executable).parent))


def test_demo_runs_a_job_through_the_daemon_and_replays_it() -> None:
    assert BIN is not None
    done = subprocess.run([BIN, "demo"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "[job created] paperclip-demo/ac-agent-demo-demo-run-1-" in out
    assert "| tool_call: Bash: echo hi" in out  # the pod's output, formatted live
    assert "[finished] succeeded" in out
    assert '"errorCode": null' in out
    assert "run demo-run-1  agent=agent-demo phase=succeeded" in out  # the offline replay
    assert "1 supervisor starts" in out
