"""The real path under test: socket → daemon → kubesim (real processes) → event log.

A ``Rig`` is one simulated cluster and one daemon served in-process on a Unix socket,
wired exactly as ``paperclip-supervisor serve`` wires them (``daemon.serve`` with the real
lifecycle, recovery and a kubeconfig pointing at the simulator).
"""

from __future__ import annotations

import functools
import json
import shutil
import tempfile
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import trio

from events import EventStore
from kubesim.sim import KubeSim
from supervisor import config, daemon, sdnotify
from supervisor.api.client import AsyncSupervisorClient
from supervisor.engine.follow import FollowSettings

NAMESPACE = "agents"
TERMINAL = ("succeeded", "failed", "cancelled", "lost")
IMAGE = "registry.example/paperclip-agent:1"
# Fast timings so a test never waits on a production-sized timer.
FAST_FOLLOW = FollowSettings(stall_timeout=5.0, bail_timeout=0.5, reconnect_delay=0.05,
                             max_reconnect_delay=0.5, file_poll=0.05, file_idle_poll=0.1)


class Rig:
    def __init__(self, sim: KubeSim, running: daemon.Daemon, client: AsyncSupervisorClient,
                 settings: config.DaemonConfig) -> None:
        self.sim = sim
        self.daemon = running
        self.client = client
        self.settings = settings

    @property
    def sup(self) -> Any:
        return self.daemon.supervisor

    async def start(self, run_id: str, prompt: str, *, agent: str = "agent-1",
                    **extra: Any) -> dict[str, Any]:
        body = {"runId": run_id, "agent": {"id": agent, "companyId": "co-1"}, "prompt": prompt,
                **extra}
        run, created = await self.client.start_run(body)
        assert created
        return run

    async def wait_finished(self, run_id: str, limit: float = 60) -> dict[str, Any]:
        """Follow the run's events over the socket until ``run.finished``."""
        with trio.fail_after(limit):
            async with self.client.events(run_id, follow=True) as stream:
                async for event in stream:
                    if event["kind"] == "run.finished":
                        break
        return await self.client.get_run(run_id)

    async def wait_phase(self, run_id: str, *phases: str, limit: float = 30) -> dict[str, Any]:
        """The run's state once its phase is one of ``phases`` (checked at each of its events)."""
        with trio.fail_after(limit):
            async with self.client.events(run_id, follow=True) as stream:
                async for _event in stream:
                    run = await self.client.get_run(run_id)
                    if run["phase"] in phases:
                        return run
        raise AssertionError(f"{run_id} ended without reaching {' or '.join(phases)}")

    def transcript(self, run_id: str) -> bytes:
        """The run's output as the event log holds it."""
        with EventStore.open_readonly(self.settings.db_path) as log:
            return b"".join(e.data or b"" for e in log.read(0, run_id=run_id, kinds=("log.chunk",)))

    def printed(self, pod: str) -> bytes:
        """What the claude container really printed, from kubesim's ground truth."""
        return b"".join(line.data + (b"\n" if line.newline else b"")
                        for line in self.sim.output(NAMESPACE, pod, "claude"))

    def dump(self, run_id: str) -> str:
        """The run's events, for assertion messages."""
        with EventStore.open_readonly(self.settings.db_path) as log:
            return "\n".join(f"{e.seq} {e.kind} {str(e.event)[:300]}"
                             for e in log.read(0, run_id=run_id, with_data=False))

    def kinds(self, run_id: str) -> list[str]:
        with EventStore.open_readonly(self.settings.db_path) as log:
            return [e.kind for e in log.read(0, run_id=run_id, with_data=False)]

    def events(self, run_id: str, kind: str) -> list[tuple[Any, bytes]]:
        """The run's events of one kind, each with its data (``b""`` when it has none)."""
        with EventStore.open_readonly(self.settings.db_path) as log:
            return [(e.event, e.data or b"") for e in log.read(0, run_id=run_id, kinds=(kind,))]


def daemon_settings(base: Path, kubeconfig: Path, **overrides: Any) -> config.DaemonConfig:
    agent: Mapping[str, Any] = overrides.pop("agent", {})
    toml = "\n".join([
        f'db_path = "{base / "events.db"}"',
        f'socket_path = "{base / "api.sock"}"',
        f'kubeconfig = "{kubeconfig}"',
        f'namespace = "{NAMESPACE}"',
        *(f"{key} = {json.dumps(value)}" for key, value in overrides.items()),
        "[agent]",
        f'image = "{IMAGE}"',
        *(f"{key} = {json.dumps(value)}" for key, value in agent.items()),
    ])
    return config.parse_config(toml)


@asynccontextmanager
async def rig(*, sim_options: Mapping[str, Any] | None = None,
              **settings_overrides: Any) -> AsyncIterator[Rig]:
    base = Path(tempfile.mkdtemp(prefix="pcs-"))  # short: Unix socket paths are capped
    try:
        async with trio.open_nursery() as nursery:
            sim = KubeSim(work_dir=base / "sim", **(sim_options or {}))
            await nursery.start(sim.serve)
            kubeconfig = sim.write_kubeconfig(base / "kubeconfig", namespace=NAMESPACE)
            settings = daemon_settings(base, kubeconfig, **settings_overrides)
            running: daemon.Daemon = await nursery.start(functools.partial(
                daemon.serve, settings, kube_client_factory=daemon.open_kube_client,
                notifier=sdnotify.Notifier(None), inherited_fds=[], graceful_timeout=0.5,
                follow_settings=FAST_FOLLOW))
            async with AsyncSupervisorClient(settings.socket_path) as client:
                yield Rig(sim, running, client, settings)
            running.request_stop("test over")
            with trio.fail_after(15):
                await running.stopped.wait()
            nursery.cancel_scope.cancel()
    finally:
        shutil.rmtree(base, ignore_errors=True)
