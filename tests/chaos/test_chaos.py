"""Kill the daemon with SIGKILL at random moments, again and again; nothing may be lost.

kubesim runs as its own process (it outlives every daemon); the daemon is a child process
started with ``paperclip-supervisor serve --config …`` and SIGKILLed at random moments
(mid-append, mid-create, mid-reconnect, during completion), then started again. Runs are
submitted throughout — some with cut log streams or API error bursts — and clients re-post
runs after restarts, as Paperclip's adapter does. At the end, for every run:

* the transcript in the event log is byte-identical to what kubesim recorded the
  container printing (no duplicate, no loss);
* it reached the outcome its scenario dictates;
* its Job was created exactly once (kubesim counts successful creates).

Seeded and reproducible: ``CHAOS_SEED`` and ``CHAOS_CYCLES`` override the defaults, and the
seed is printed (and in every failure message).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
import trio

from events import EventStore
from kubesim import faults
from kubesim.testing import launch_async
from supervisor import labels
from supervisor.api.client import AsyncSupervisorClient, DaemonUnreachable

SEED = int(os.environ.get("CHAOS_SEED", "20261125"))
CYCLES = int(os.environ.get("CHAOS_CYCLES", "30"))
RUNS = int(os.environ.get("CHAOS_RUNS", "14"))
NAMESPACE = "chaos"
BIN = str(Path(sys.executable).with_name("paperclip-supervisor"))


class Daemon:
    """``paperclip-supervisor serve`` as a child process we can SIGKILL."""

    def __init__(self, config: Path, socket: Path, log: Path) -> None:
        self.config, self.socket, self.log = config, socket, log
        self.process: trio.Process | None = None
        self.starts = 0

    async def start(self) -> None:
        with self.log.open("ab") as err:
            self.process = await trio.lowlevel.open_process(
                [BIN, "serve", "--config", str(self.config)], stdout=err, stderr=err,
                start_new_session=True)
        self.starts += 1
        with trio.fail_after(30):
            while True:  # healthy = recovery done and the API answers
                try:
                    async with AsyncSupervisorClient(str(self.socket)) as client:
                        await client.health()
                        return
                except (DaemonUnreachable, OSError):
                    assert self.process.returncode is None, f"daemon died: see {self.log}"
                    await trio.sleep(0.05)

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            with trio.move_on_after(10):
                await self.process.wait()
            if self.process.returncode is None:
                await self.kill()


def _plan(rng: random.Random) -> list[dict[str, Any]]:
    runs = []
    for i in range(RUNS):
        kind = rng.choice(["chatty", "chatty", "chatty", "tool", "exit"])
        if kind == "chatty":
            prompt = f"#scenario chatty lines={rng.randint(10, 120)} pace_ms={rng.randint(5, 40)}"
            expect = "succeeded"
        elif kind == "tool":
            prompt = f"#scenario tool tools={rng.randint(1, 3)} pace_ms={rng.randint(20, 80)}"
            expect = "succeeded"
        else:
            prompt = f"#scenario exit code={rng.randint(2, 9)} init=1"
            expect = "failed"
        runs.append({"runId": f"chaos-{i:02d}", "agent": {"id": f"agent-{i:02d}"},
                     "taskKey": f"T-{i}", "prompt": prompt + f" seed={i}\nwork item {i}",
                     "_expect": expect, "_cut": rng.random() < 0.4})
    return runs


async def _inject(admin: httpx.AsyncClient, fault: Any) -> None:
    response = await admin.post("/_kubesim/faults", content=faults.encode(fault))
    assert response.status_code in (200, 201), response.text


async def _submit(socket: Path, run: dict[str, Any]) -> None:
    body = {k: v for k, v in run.items() if not k.startswith("_")}
    try:
        async with AsyncSupervisorClient(str(socket)) as client:
            await client.start_run(body)  # idempotent: a re-post after a restart is a no-op
    except DaemonUnreachable:
        pass  # killed under us; the next cycle posts it again


async def _all_terminal(socket: Path, run_ids: list[str]) -> dict[str, dict[str, Any]]:
    async with AsyncSupervisorClient(str(socket)) as client:
        with trio.fail_after(180):
            while True:
                states = {rid: await client.get_run(rid) for rid in run_ids}
                if all(s["phase"] in ("succeeded", "failed", "cancelled", "lost")
                       for s in states.values()):
                    return states
                await trio.sleep(0.2)


async def test_sigkill_at_random_moments_loses_and_repeats_nothing() -> None:
    rng = random.Random(SEED)
    print(f"chaos: seed={SEED} cycles={CYCLES} runs={RUNS}")
    base = Path(tempfile.mkdtemp(prefix="pcs-chaos-"))
    try:
        async with launch_async(base / "sim", "--namespace", NAMESPACE) as sim:
            config = base / "config.toml"
            config.write_text("\n".join([
                f'db_path = "{base / "events.db"}"', f'socket_path = "{base / "api.sock"}"',
                f'kubeconfig = "{sim.kubeconfig}"', f'namespace = "{NAMESPACE}"',
                "keepalive_interval_sec = 0.5", 'log_format = "json"',
                "[agent]", 'image = "paperclip/agent:chaos"']))
            daemon = Daemon(config, base / "api.sock", base / "daemon.log")
            plan = _plan(rng)
            async with httpx.AsyncClient(base_url=sim.url, trust_env=False) as admin:
                for run in plan:
                    if run["_cut"]:
                        job = labels.job_name(run["agent"]["id"], run["runId"])
                        # Time-based, like real dropped streams. (A stream cut more often than
                        # once per second of output cannot progress through sinceTime at all:
                        # the follower then records a gap; tests/lifecycle covers that.)
                        await _inject(admin, faults.LogCut(job=job,
                                                           after_seconds=rng.uniform(0.2, 0.8)))
                await _inject(admin, faults.HttpError(status=503, method="GET", times=3,
                                                      path=r"/apis/batch/v1/namespaces/chaos/jobs$"))
                await _inject(admin, faults.HttpError(status=500, method="POST", times=2,
                                                      path=r"/apis/batch/v1/namespaces/chaos/jobs$"))
                await daemon.start()
                submitted = 0
                try:
                    for _cycle in range(CYCLES):
                        # A few new runs each cycle, and re-posts of earlier ones.
                        for run in plan[submitted:submitted + rng.randint(0, 2)]:
                            await _submit(daemon.socket, run)
                            submitted += 1
                        for run in rng.sample(plan[:submitted], k=min(2, submitted)):
                            await _submit(daemon.socket, run)
                        await trio.sleep(rng.uniform(0.0, 0.6))  # the kill schedule
                        await daemon.kill()
                        await daemon.start()
                    for run in plan:
                        await _submit(daemon.socket, run)
                    states = await _all_terminal(daemon.socket, [r["runId"] for r in plan])
                    counts = (await admin.get("/_kubesim/requests", params={"log": "1"})).json()
                finally:
                    await daemon.stop()
                await _check(base, plan, states, counts, admin, daemon.starts)
    finally:
        shutil.rmtree(base, ignore_errors=True)


async def _check(base: Path, plan: list[dict[str, Any]], states: dict[str, dict[str, Any]],
                 counts: dict[str, Any], admin: httpx.AsyncClient, starts: int) -> None:
    where = f"(chaos seed {SEED}, {starts} daemon starts; CHAOS_SEED={SEED} reproduces)"
    keep = os.environ.get("CHAOS_KEEP")
    if keep:
        shutil.copy(base / "events.db", keep)
    creates = [r for r in counts.get("requests", []) if r["method"] == "POST"
               and r["path"] == f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs" and r["status"] == 201]
    with EventStore.open_readonly(base / "events.db") as log:
        started = [e for e in log.read(0, kinds=("supervisor.started",), with_data=False)]
        assert len(started) == starts, where
        for run in plan:
            run_id = run["runId"]
            state = states[run_id]
            assert state["phase"] == run["_expect"], f"{run_id}: {state} {where}"
            events = log.read(0, run_id=run_id)
            transcript = b"".join(e.data or b"" for e in events if e.kind == "log.chunk")
            response = await admin.get(f"/_kubesim/output/{NAMESPACE}/{state['podName']}/claude",
                                       params={"format": "log"})
            truth = b"".join(line.split(b" ", 1)[1] if b" " in line else b""
                             for line in response.content.splitlines(keepends=True))
            gaps = [e for e in events if e.kind == "log.gap"]
            assert not gaps, f"{run_id}: unexpected gap {gaps} {where}"
            assert transcript == truth, (
                f"{run_id}: transcript differs from what the pod printed: "
                f"{len(transcript)} vs {len(truth)} bytes {where}")
            assert sum(1 for e in events if e.kind == "run.finished") == 1, where
    created_runs = sum(1 for run in plan if states[run["runId"]]["jobName"])
    assert len(creates) == created_runs, (
        f"{len(creates)} Jobs created for {created_runs} runs {where}")
    print(f"chaos: {starts} daemon starts, {len(plan)} runs, {len(creates)} Jobs, all exact")
