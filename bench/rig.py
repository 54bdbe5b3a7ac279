"""The measured system: kubesim and the daemon, each its own process, as in production.

The simulator runs as ``python -m kubesim serve`` (a separate API server, as a real cluster
is) and the daemon as ``paperclip-supervisor serve --config …`` (so its memory and CPU can be
read from ``/proc`` and it can be SIGKILLed or paused). The benchmark process itself only plays
the clients: the socket client that follows runs, and plain httpx readers of kubesim.

Resource handling: :func:`open_rig` stops everything it started when its block is left —
the daemon (SIGTERM, then SIGKILL), then kubesim, which kills every pod process it runs.
kubesim also watches this process and stops if it dies. The daemon stays in this process's
process group, so killing the benchmark's group kills the daemon too.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import trio

from bench import procs
from supervisor.api.client import AsyncSupervisorClient, DaemonUnreachable

NAMESPACE = "bench"
IMAGE = "registry.example/paperclip-agent:bench"
CONTAINER = "claude"
# Not "namespace": its helper asks for SIGKILL when the thread that spawned the container
# exits, and kubesim spawns from Trio worker threads, which retire after 10 s idle, so pods
# that live longer than that die at random (reported with the benchmark figures).
ISOLATION = "pathmap"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
TERMINAL_PHASES = frozenset({"succeeded", "failed", "cancelled", "lost"})
_DAEMON_BIN = str(Path(sys.executable).with_name("paperclip-supervisor"))


class RigError(Exception):
    """The measured system could not be started or did not behave; the message says why."""


@dataclass(frozen=True)
class RigOptions:
    """How the measured system is started.

    Args:
        daemon_src: run the daemon from this checkout (put first on its ``PYTHONPATH``), to
            measure a proposed change against the installed code in the same way.
        keep: keep the temporary directory (event log, daemon and kubesim logs).
    """

    daemon_src: Path | None = None
    keep: bool = False


async def _stop_process(process: trio.Process) -> None:
    with trio.CancelScope(shield=True):
        if process.returncode is None:
            process.send_signal(signal.SIGCONT)  # a paused process cannot act on SIGTERM
            process.send_signal(signal.SIGTERM)
            with trio.move_on_after(STOP_TIMEOUT):
                await process.wait()
        if process.returncode is None:
            process.kill()
            await process.wait()


@dataclass
class Kubesim:
    """The simulator process and an admin client for its ``/_kubesim`` endpoints."""

    url: str
    kubeconfig: Path
    process: trio.Process
    http: httpx.AsyncClient

    async def request_counts(self) -> dict[str, int]:
        """Requests answered so far, per class (``"get jobs"``, ``"get pods/log"`` …)."""
        response = await self.http.get("/_kubesim/requests")
        response.raise_for_status()
        counts: dict[str, int] = response.json()["counts"]
        return counts

    async def output(self, pod: str) -> list[dict[str, Any]]:
        """Ground truth: every line the pod's claude container printed, with ``ts_ns``."""
        response = await self.http.get(f"/_kubesim/output/{NAMESPACE}/{pod}/{CONTAINER}")
        response.raise_for_status()
        lines: list[dict[str, Any]] = msgspec.json.decode(response.content)["lines"]
        return lines

    async def pod(self, name: str) -> dict[str, Any]:
        response = await self.http.get(f"/api/v1/namespaces/{NAMESPACE}/pods/{name}")
        response.raise_for_status()
        pod: dict[str, Any] = response.json()
        return pod

    async def pods(self) -> list[dict[str, Any]]:
        response = await self.http.get(f"/api/v1/namespaces/{NAMESPACE}/pods")
        response.raise_for_status()
        items: list[dict[str, Any]] = response.json()["items"]
        return items


def container_state(pod: dict[str, Any]) -> str:
    """``waiting``, ``running`` or ``terminated`` for the claude container."""
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == CONTAINER:
            return str(next(iter(status.get("state") or {"waiting": {}})))
    return "waiting"


@asynccontextmanager
async def _kubesim(directory: Path) -> AsyncIterator[Kubesim]:
    await trio.Path(directory).mkdir(parents=True, exist_ok=True)
    kubeconfig = directory / "kubeconfig"
    with (directory / "kubesim.stderr").open("ab") as stderr:
        process = await trio.lowlevel.open_process(
            [sys.executable, "-m", "kubesim", "serve", "--work-dir", str(directory / "work"),
             "--kubeconfig-out", str(kubeconfig), "--namespace", NAMESPACE,
             "--parent-pid", str(os.getpid()), "--isolation", ISOLATION],
            stdout=subprocess.PIPE, stderr=stderr, start_new_session=True)
    try:
        assert process.stdout is not None
        line = b""
        with trio.move_on_after(START_TIMEOUT) as waiting:
            while not line.endswith(b"\n"):
                data = await process.stdout.receive_some(256)
                if not data:
                    raise RigError(f"kubesim exited early; see {directory / 'kubesim.stderr'}")
                line += data
        if waiting.cancelled_caught:
            raise RigError(f"kubesim did not start within {START_TIMEOUT:.0f}s")
        url = line.decode().strip()
        async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=30.0) as http:
            yield Kubesim(url, kubeconfig, process, http)
    finally:
        await _stop_process(process)
        if process.stdout is not None:
            await process.stdout.aclose()


class Daemon:
    """``paperclip-supervisor serve`` as a child process (SIGKILL, pause, restart)."""

    def __init__(self, base: Path, kubeconfig: Path, *, keepalive_interval: float,
                 source: Path | None = None) -> None:
        self.base = base
        self.env = dict(os.environ)
        if source is not None:
            self.env["PYTHONPATH"] = os.pathsep.join(
                [str(source), *filter(None, [os.environ.get("PYTHONPATH")])])
        self.db_path = base / "events.db"
        self.socket_path = str(base / "api.sock")
        self.config = base / "daemon.toml"
        self.stderr_path = base / "daemon.stderr"
        self.config.write_text("\n".join([
            f'db_path = "{self.db_path}"',
            f'socket_path = "{self.socket_path}"',
            f'kubeconfig = "{kubeconfig}"',
            f'namespace = "{NAMESPACE}"',
            f"keepalive_interval_sec = {keepalive_interval}",
            'log_format = "json"',
            "[agent]",
            f'image = "{IMAGE}"',
        ]) + "\n")
        self.process: trio.Process | None = None
        self.started_at = 0.0  # time.time() of the last exec

    @property
    def pid(self) -> int:
        assert self.process is not None, "the daemon is not running"
        return self.process.pid

    async def start(self) -> float:
        """Start the daemon and wait until its API answers; returns seconds that took."""
        self.started_at = time.time()
        began = time.perf_counter()
        with self.stderr_path.open("ab") as err:
            # Same process group as the benchmark: killing the group kills the daemon too.
            self.process = await trio.lowlevel.open_process(
                [_DAEMON_BIN, "serve", "--config", str(self.config)], stdout=err, stderr=err,
                env=self.env)
        with trio.move_on_after(START_TIMEOUT) as waiting:
            while True:  # health answers only once recovery is done
                try:
                    async with AsyncSupervisorClient(self.socket_path) as client:
                        await client.health()
                        return time.perf_counter() - began
                except (DaemonUnreachable, OSError):
                    if self.process.returncode is not None:
                        raise RigError(f"the daemon exited with {self.process.returncode}; "
                                       f"see {self.stderr_path}") from None
                    await trio.sleep(0.02)
        assert waiting.cancelled_caught
        raise RigError(f"the daemon did not answer within {START_TIMEOUT:.0f}s")

    async def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill would."""
        assert self.process is not None
        self.process.kill()
        await self.process.wait()

    def pause(self) -> None:
        self.process_or_fail().send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process_or_fail().send_signal(signal.SIGCONT)

    def process_or_fail(self) -> trio.Process:
        if self.process is None or self.process.returncode is not None:
            raise RigError("the daemon is not running")
        return self.process

    def memory(self) -> procs.Memory:
        return procs.memory(self.pid)

    def cpu_seconds(self) -> float:
        return procs.cpu_seconds(self.pid)

    async def stop(self) -> None:
        if self.process is not None:
            await _stop_process(self.process)


@dataclass
class Rig:
    """One simulated cluster and one daemon, plus the clients the benchmark uses."""

    base: Path
    kubesim: Kubesim
    daemon: Daemon

    def client(self) -> AsyncSupervisorClient:
        return AsyncSupervisorClient(self.daemon.socket_path, timeout=60.0)

    async def submit(self, run_id: str, prompt: str, *, agent: str) -> None:
        """Start one run (each agent id may have only one run at a time: the guard)."""
        async with self.client() as client:
            await client.start_run({"runId": run_id, "agent": {"id": agent}, "prompt": prompt})

    async def runs(self) -> dict[str, dict[str, Any]]:
        async with self.client() as client:
            return {run["runId"]: run for run in await client.list_runs()}

    async def wait_runs(self, run_ids: Iterable[str], *, what: str, limit: float,
                        ready: Callable[[dict[str, Any]], bool], poll: float = 0.1
                        ) -> dict[str, dict[str, Any]]:
        """Poll the runs until ``ready(run)`` holds for each; raises RigError after ``limit``."""
        wanted = set(run_ids)
        with trio.move_on_after(limit):
            while True:
                runs = await self.runs()
                if all(rid in runs and ready(runs[rid]) for rid in wanted):
                    return {rid: runs[rid] for rid in wanted}
                await trio.sleep(poll)
        late = sorted(rid for rid in wanted if rid not in runs or not ready(runs[rid]))
        raise RigError(f"{len(late)} of {len(wanted)} runs not {what} after {limit:.0f}s "
                       f"(first: {late[0]}: {runs.get(late[0])})")


def chatty(lines: int, *, pace_ms: int = 0, width: int = 0) -> str:
    """A fake-claude prompt printing ``lines`` assistant lines, one every ``pace_ms``."""
    header = f"#scenario chatty lines={lines} pace_ms={pace_ms}"
    if width:
        header += f" width={width}"
    return header + "\nbenchmark run: keep working and report progress\n"


@asynccontextmanager
async def open_rig(options: RigOptions, *, keepalive_interval: float = 15.0
                   ) -> AsyncIterator[Rig]:
    """kubesim and a started daemon for the block; both stopped when it is left."""
    base = Path(tempfile.mkdtemp(prefix="pcs-bench-"))  # short: socket paths are capped
    try:
        async with _kubesim(base / "kubesim") as sim:
            daemon = Daemon(base, sim.kubeconfig, keepalive_interval=keepalive_interval,
                            source=options.daemon_src)
            try:
                await daemon.start()
                yield Rig(base, sim, daemon)
            finally:
                await daemon.stop()
    finally:
        if options.keep:
            print(f"kept {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)
