"""SIGTERM stops the daemon without deleting a Job; the next daemon finishes the run."""

from __future__ import annotations

import shutil
import signal
import tempfile
from pathlib import Path

import httpx
import trio

from events import EventStore
from kubesim.testing import launch_async
from supervisor.api.client import AsyncSupervisorClient
from tests.chaos.test_chaos import Daemon


async def test_sigterm_keeps_jobs_and_a_restart_reattaches() -> None:
    base = Path(tempfile.mkdtemp(prefix="pcs-term-"))
    try:
        async with launch_async(base / "sim", "--namespace", "term") as sim:
            config = base / "config.toml"
            config.write_text("\n".join([
                f'db_path = "{base / "events.db"}"', f'socket_path = "{base / "api.sock"}"',
                f'kubeconfig = "{sim.kubeconfig}"', 'namespace = "term"',
                "[agent]", 'image = "paperclip/agent:term"']))
            daemon = Daemon(config, base / "api.sock", base / "daemon.log")
            try:
                await _sigterm_then_restart(daemon, sim.url, base)
            finally:
                await daemon.stop()  # never leave a daemon behind, even when an assert failed
    finally:
        shutil.rmtree(base, ignore_errors=True)


async def _sigterm_then_restart(daemon: Daemon, sim_url: str, base: Path) -> None:
    await daemon.start()
    async with AsyncSupervisorClient(str(daemon.socket)) as client:
        await client.start_run({"runId": "run-term", "agent": {"id": "agent-t"},
                                "prompt": "#scenario chatty lines=40 pace_ms=50\nwork"})
        with trio.fail_after(30):
            # Polling another process's API, bounded by fail_after.
            while (await client.get_run("run-term"))["phase"] != "running":  # noqa: ASYNC110
                await trio.sleep(0.05)
    assert daemon.process is not None
    daemon.process.send_signal(signal.SIGTERM)
    with trio.fail_after(10):
        assert await daemon.process.wait() == 0
    async with httpx.AsyncClient(base_url=sim_url, trust_env=False) as api:
        jobs = (await api.get("/apis/batch/v1/namespaces/term/jobs")).json()["items"]
    assert [j["metadata"]["labels"]["paperclip.io/run-id"] for j in jobs] == ["run-term"]
    with EventStore.open_readonly(base / "events.db") as log:
        assert [e.kind for e in log.read(0, kinds=("supervisor.stopped",))] == [
            "supervisor.stopped"]
    await daemon.start()  # recovery follows the run from its cursor
    async with AsyncSupervisorClient(str(daemon.socket)) as client:
        with trio.fail_after(60):
            while (run := await client.get_run("run-term"))["phase"] == "running":  # noqa: ASYNC110
                await trio.sleep(0.1)
    assert run["phase"] == "succeeded", run
    await daemon.stop()
    with EventStore.open_readonly(base / "events.db") as log:
        started = log.read(0, kinds=("supervisor.started",))
        assert started[-1].event.recovery["follow"] == 1
        chunks = log.read(0, run_id="run-term", kinds=("log.chunk",))
    async with httpx.AsyncClient(base_url=sim_url, trust_env=False) as api:
        truth = (await api.get(f"/_kubesim/output/term/{run['podName']}/claude",
                               params={"format": "log"})).content
    printed = b"".join(line.split(b" ", 1)[1] for line in truth.splitlines(keepends=True))
    assert b"".join(c.data or b"" for c in chunks) == printed
