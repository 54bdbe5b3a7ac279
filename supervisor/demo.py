"""``paperclip-supervisor demo``: the whole system on one machine, in a few seconds.

Starts the Kubernetes simulator (a real HTTP API server whose kubelet runs containers as
local processes), a daemon on a temporary socket and event log pointed at it through a
kubeconfig, submits a run whose pod runs a stand-in Claude, follows it live through the
socket API with the human formatter, prints the result, stops the daemon, and replays
the event log offline. The only module that imports ``kubesim`` (the daemon never does).
Ctrl-C at any point stops everything it started.
"""

from __future__ import annotations

import functools
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

import trio

from events import replay, store
from supervisor import config, daemon, pretty, sdnotify
from supervisor.api.client import AsyncSupervisorClient

DEMO_NAMESPACE = "paperclip-demo"
DEMO_PROMPT = ("#scenario tool tools=2 pace_ms=250\n"
               "The test tests/test_math.py::test_add fails. Find out why and fix it.")
_SHOWN_KINDS = {
    "guard.checked": "guard",
    "job.created": "job created",
    "pod.pending": "pod",
    "pod.running": "pod running",
    "log.reconnected": "log stream reconnected",
    "log.gap": "GAP",
    "job.terminal": "job ended",
    "container.exited": "container exited",
    "cleanup.done": "cleaned up",
    "run.finished": "finished",
}


def _settings(base: Path, kubeconfig: Path) -> config.DaemonConfig:
    return config.parse_config("\n".join([
        f'db_path = "{base / "events.db"}"',
        f'socket_path = "{base / "api.sock"}"',
        f'kubeconfig = "{kubeconfig}"',
        f'namespace = "{DEMO_NAMESPACE}"',
        "keepalive_interval_sec = 1.0",
        "[agent]",
        'image = "paperclip/claude-agent:demo"',
    ]), source="demo settings")


def _describe(event: dict[str, Any]) -> str:
    kind = event["kind"]
    if kind == "pod.pending":
        return str(event.get("detail", ""))
    if kind == "guard.checked":
        return str(event.get("decision", ""))
    if kind == "job.created":
        return f"{event.get('namespace')}/{event.get('jobName')}"
    if kind == "run.finished":
        return f"{event.get('phase')} {event.get('errorCode') or ''}".strip()
    if kind == "job.terminal":
        return str(event.get("outcome", ""))
    if kind == "container.exited":
        return f"exit {event.get('exitCode')}"
    return ""


async def run_demo(out: TextIO, *, keep: bool = False) -> int:
    """Run the demo, writing to ``out``; returns a process exit code."""
    from kubesim.sim import KubeSim  # the demo is the daemon's only link to the simulator

    base = Path(tempfile.mkdtemp(prefix="pcs-demo-"))
    try:
        async with trio.open_nursery() as nursery:
            sim = KubeSim(work_dir=base / "cluster")
            await nursery.start(sim.serve)
            kubeconfig = sim.write_kubeconfig(base / "kubeconfig", namespace=DEMO_NAMESPACE)
            settings = _settings(base, kubeconfig)
            out.write(f"kubesim (simulated Kubernetes API) at {sim.url}\n"
                      f"kubeconfig: {kubeconfig}   (try: kubectl --kubeconfig {kubeconfig} get jobs -A)\n")
            running: daemon.Daemon = await nursery.start(functools.partial(
                daemon.serve, settings, kube_client_factory=daemon.open_kube_client,
                notifier=sdnotify.Notifier(None), inherited_fds=[], graceful_timeout=0.5))
            out.write(f"daemon: socket {settings.socket_path}, event log {settings.db_path}\n\n")
            async with AsyncSupervisorClient(settings.socket_path) as client:
                run, _ = await client.start_run({
                    "runId": "demo-run-1", "agent": {"id": "agent-demo", "name": "Demo agent"},
                    "taskKey": "TASK-42", "prompt": DEMO_PROMPT})
                out.write(f"submitted run {run['runId']} (POST /v1/runs), following it live:\n\n")
                async with client.events(run["runId"], follow=True) as stream:
                    async for event in stream:
                        _show(out, event)
                        if event["kind"] == "run.finished":
                            break
                result = await client.result(run["runId"])
            out.write("\nresult (GET /v1/runs/demo-run-1/result):\n")
            shown = {k: result.get(k) for k in ("errorCode", "exitCode", "sessionId", "model",
                                                "costUsd", "summary")}
            out.write(json.dumps(shown, indent=2) + "\n")
            running.request_stop("demo over")
            with trio.fail_after(15):
                await running.stopped.wait()
            nursery.cancel_scope.cancel()
        out.write("\nthe daemon has stopped; replaying its event log offline "
                  f"(paperclip-supervisor replay {settings.db_path} --no-transcript):\n\n")
        with store.EventStore.open_readonly(settings.db_path) as log:
            for chunk in replay.render_text(log, show_transcript=False):
                out.write(chunk)
            if keep:
                from supervisor import report

                page = base / "timeline.html"
                page.write_text(report.render_html(log, "demo-run-1"))
                out.write(f"\nthe run's timeline: {page}\n")
        return 0 if result.get("errorCode") is None else 1
    finally:
        if keep:
            out.write(f"\nkept {base}\n")
        else:
            shutil.rmtree(base, ignore_errors=True)


def _show(out: TextIO, event: dict[str, Any]) -> None:
    kind = event["kind"]
    if kind == "log.chunk":
        for line in str(event.get("text", "")).splitlines():
            text = pretty.format_line(line, color=out.isatty())
            if text:
                for piece in text.splitlines():
                    out.write(f"  | {piece}\n")
    elif kind == "keepalive.ticked":
        out.write(f"  . keepalive (quiet {float(event.get('silentFor', 0)):.1f}s)\n")
    elif kind in _SHOWN_KINDS:
        out.write(f"  [{_SHOWN_KINDS[kind]}] {_describe(event)}\n")
    out.flush()


def main(*, keep: bool = False) -> int:
    try:
        return trio.run(functools.partial(run_demo, sys.stdout, keep=keep))
    except KeyboardInterrupt:
        return 130
