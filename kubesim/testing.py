"""Test helpers for every test area: an in-process fixture, subprocess launchers, kubectl.

* ``kubesim_sim``: a pytest-trio fixture with a default ``KubeSim`` on loopback, its work
  directory under ``tmp_path``. For other options use ``async with kubesim.running(...)``.
* ``slow_autojump_clock``: virtual time for tests that also run real container processes.
* ``launch`` / ``launch_async``: ``python -m kubesim serve`` as a child process (for tests
  that restart the simulator or need it to outlive something). The child watches its parent
  and stops if the test process dies; the launchers stop it (SIGTERM, then SIGKILL) when the
  block is left, whether or not the test failed.
* ``kubectl``: run the pinned kubectl against a kubeconfig with a fresh ``HOME`` (kubectl
  caches discovery under ``$HOME/.kube/cache``).

Resource handling: every process these helpers start is stopped when their block or fixture
ends; the simulator itself kills its container processes when it stops.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import trio
import trio.testing

from kubesim.sim import KubeSim, running

KUBECTL = Path(sys.executable).parent / "kubectl"
_START_TIMEOUT_SECONDS = 30.0
_STOP_TIMEOUT_SECONDS = 10.0


@pytest.fixture
async def kubesim_sim(tmp_path: Path) -> AsyncIterator[KubeSim]:
    """A running simulator with default options (work directory under ``tmp_path``)."""
    async with running(work_dir=tmp_path / "kubesim") as sim:
        yield sim


@pytest.fixture
def slow_autojump_clock() -> trio.testing.MockClock:
    """Virtual time that jumps only after 0.25 s of real idleness.

    Plain ``autojump_clock`` jumps as soon as every task waits, including while a real
    container process is still running, so any pending timeout would fire at once. With a
    threshold, short-lived processes finish before time jumps over back-offs and TTLs.
    """
    return trio.testing.MockClock(autojump_threshold=0.25)


@dataclass
class SimProcess:
    """A simulator running as a child process."""

    url: str
    kubeconfig: Path
    pid: int


def _serve_argv(work_dir: Path, kubeconfig: Path, args: Sequence[str]) -> list[str]:
    return [
        sys.executable, "-m", "kubesim", "serve", "--work-dir", str(work_dir),
        "--kubeconfig-out", str(kubeconfig), "--parent-pid", str(os.getpid()), *args,
    ]


def _read_first_line(process: subprocess.Popen[bytes], deadline: float) -> str:
    assert process.stdout is not None
    line = b""
    while not line.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("kubesim did not print its address in time")
        ready, _, _ = select.select([process.stdout], [], [], remaining)
        if ready:
            byte = os.read(process.stdout.fileno(), 1)
            if not byte:
                raise RuntimeError(f"kubesim exited early with code {process.wait()}")
            line += byte
    return line.decode().strip()


@contextmanager
def launch(directory: Path, *args: str, env: Mapping[str, str] | None = None) -> Iterator[SimProcess]:
    """Run ``python -m kubesim serve`` for the block (blocking; for sync tests).

    Args:
        directory: holds the kubeconfig, the work directory and the server's stderr log.
        args: extra ``serve`` options (e.g. ``"--port", "38001"``).
    """
    directory.mkdir(parents=True, exist_ok=True)
    kubeconfig = directory / "kubeconfig"
    with (directory / "kubesim.stderr").open("ab") as stderr:
        process = subprocess.Popen(
            _serve_argv(directory / "work", kubeconfig, args),
            stdout=subprocess.PIPE, stderr=stderr, env=dict(env) if env is not None else None,
            start_new_session=True,
        )
    try:
        url = _read_first_line(process, time.monotonic() + _START_TIMEOUT_SECONDS)
        yield SimProcess(url, kubeconfig, process.pid)
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(_STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()


@asynccontextmanager
async def launch_async(
    directory: Path, *args: str, env: Mapping[str, str] | None = None
) -> AsyncIterator[SimProcess]:
    """Run ``python -m kubesim serve`` for the block (from a Trio test)."""
    await trio.Path(directory).mkdir(parents=True, exist_ok=True)
    kubeconfig = directory / "kubeconfig"
    async with await trio.open_file(directory / "kubesim.stderr", "ab") as stderr:
        process = await trio.lowlevel.open_process(
            _serve_argv(directory / "work", kubeconfig, args),
            stdout=subprocess.PIPE, stderr=stderr.wrapped,
            env=dict(env) if env is not None else None, start_new_session=True,
        )
    try:
        assert process.stdout is not None
        line = b""
        with trio.fail_after(_START_TIMEOUT_SECONDS):
            while not line.endswith(b"\n"):
                data = await process.stdout.receive_some(1)
                if not data:
                    raise RuntimeError(f"kubesim exited early with code {await process.wait()}")
                line += data
        yield SimProcess(line.decode().strip(), kubeconfig, process.pid)
    finally:
        with trio.CancelScope(shield=True):
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                with trio.move_on_after(_STOP_TIMEOUT_SECONDS):
                    await process.wait()
                if process.returncode is None:
                    process.kill()
                    await process.wait()
            if process.stdout is not None:
                await process.stdout.aclose()


def kubectl_env(home: Path, kubeconfig: Path) -> dict[str, str]:
    """A minimal environment for kubectl with its own HOME (fresh discovery cache)."""
    home.mkdir(parents=True, exist_ok=True)
    return {"HOME": str(home), "KUBECONFIG": str(kubeconfig), "PATH": os.environ.get("PATH", "")}


async def kubectl(
    *args: str, kubeconfig: Path, home: Path, check: bool = True, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run kubectl (a blocking subprocess, awaited with Trio) and capture its output."""
    result = await trio.run_process(
        [str(KUBECTL), *args], env=kubectl_env(home, kubeconfig), capture_stdout=True,
        capture_stderr=True, check=False, stdin=stdin,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"kubectl {' '.join(args)} exited {result.returncode}: "
            f"{result.stderr.decode(errors='replace')}"
        )
    return result
