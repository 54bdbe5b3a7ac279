"""Run ``paperclip-supervisor serve`` as a real subprocess (the installed binary) for tests.

The daemon gets the scripted run lifecycle through the test-only ``--run-body`` option and
is always killed at the end, whatever the test did.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = shutil.which("paperclip-supervisor", path=str(Path(sys.executable).parent))
RUN_BODY = "tests.api.fake_runs:scripted_run"
START_TIMEOUT = 30.0


class DaemonProcess:
    """One daemon subprocess on ``<dir>/api.sock`` and ``<dir>/events.db``."""

    def __init__(self, directory: Path, *, extra_args: Sequence[str] = (),
                 env: dict[str, str] | None = None, pass_fds: Sequence[int] = (),
                 wrapper: Sequence[str] = ()) -> None:
        assert BIN is not None, "paperclip-supervisor is not installed in this venv"
        self.socket_path = str(directory / "api.sock")
        self.db_path = str(directory / "events.db")
        self.stderr_path = directory / "daemon.stderr"
        self.argv = [*wrapper, BIN, "serve", "--db", self.db_path, "--socket", self.socket_path,
                     "--log-format", "json", "--run-body", RUN_BODY, *extra_args]
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        self.pass_fds = tuple(pass_fds)
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> DaemonProcess:
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(self.argv, env=self.env, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err,
                                         pass_fds=self.pass_fds)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def wait_ready(self, path: str | None = None) -> None:
        """Block until the API answers on the socket (bounded), or fail with the daemon's log."""
        assert self.proc is not None
        target = path or self.socket_path
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited with {self.proc.returncode}:\n{self.stderr}")
            if _answers(target):
                return
            time.sleep(0.02)
        raise AssertionError(f"daemon did not answer on {target} in time:\n{self.stderr}")

    def terminate(self, timeout: float = 10.0) -> int:
        """SIGTERM, then the exit code (the daemon must stop by itself within ``timeout``)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)


def _answers(path: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        try:
            sock.connect(path)
            sock.sendall(b"GET /v1/version HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            return sock.recv(64).startswith(b"HTTP/1.1 200")
        except OSError:
            return False
