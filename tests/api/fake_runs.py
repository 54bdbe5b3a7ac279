"""A scripted run lifecycle for API and CLI tests: realistic events at the engine boundary.

It appends what the real lifecycle appends for a short Claude run — Job created, pod running,
the output of a real Claude CLI transcript as ``log.chunk`` events (one line each, text in
``data``), keepalive ticks, the parsed result and ``run.finished`` — with no cluster at all.
Words in the prompt steer it:

    hold      wait (ticking keepalives if ``tick``) until released or cancelled
    tick      while holding, append a keepalive every 50 ms
    fail      end ``failed`` with exit code 1
    lines=N   print N extra plain-text lines before the result

In-process tests release a held run with ``release(run_id)``; a daemon subprocess's held runs
end through the API's cancel.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import trio

from events import types
from supervisor.engine.supervisor import RunHandle, Supervisor

TRANSCRIPT = Path(__file__).with_name("fixtures") / "hello.jsonl"
TICK_SECONDS = 0.05
_gates: dict[str, trio.Event] = {}


def release(run_id: str) -> None:
    """Let a held run finish."""
    _gates.setdefault(run_id, trio.Event()).set()


def transcript_lines() -> list[bytes]:
    return TRANSCRIPT.read_bytes().splitlines(keepends=True)


async def scripted_run(sup: Supervisor, handle: RunHandle) -> None:
    request = handle.request
    words = request.prompt.split()
    rid = request.run_id
    writer = sup.writer
    job = f"ac-{request.agent.id}-{rid}"[:63].lower()
    pod = f"{job}-x1z2"
    await writer.append(types.ManifestBuilt(run_id=rid, ts=time.time(), job_name=job,
                                            namespace="agents"))
    await writer.append(types.JobCreated(run_id=rid, ts=time.time(), job_name=job,
                                         namespace="agents", uid="uid-" + rid))
    await writer.append(types.PodPending(run_id=rid, ts=time.time(), pod_name=pod,
                                         detail="ContainerCreating"))
    await writer.append(types.PodRunning(run_id=rid, ts=time.time(), pod_name=pod))
    lines = transcript_lines()
    extra = next((int(w.split("=", 1)[1]) for w in words if w.startswith("lines=")), 0)
    body = lines[:-1] + [f"plain line {i} of {extra}\n".encode() for i in range(extra)]
    offset = 0
    for line in body:
        offset += len(line)
        await writer.append(types.LogChunk(run_id=rid, ts=time.time(), lines=1,
                                           nbytes=len(line), cursor_offset=offset), line)
    if "hold" in words:
        await _hold(sup, handle, tick="tick" in words)
    if handle.cancel_requested.is_set():
        await writer.append(types.JobTerminal(run_id=rid, ts=time.time(), outcome="failed",
                                              reason="cancelled"))
        await writer.append(types.RunFinished(run_id=rid, ts=time.time(), phase="cancelled",
                                              error_code="cancelled",
                                              error_message="cancelled by request"))
        return
    result_line = lines[-1]
    offset += len(result_line)
    await writer.append(types.LogChunk(run_id=rid, ts=time.time(), lines=1,
                                       nbytes=len(result_line), cursor_offset=offset),
                        result_line)
    result = json.loads(result_line)
    failed = "fail" in words
    exit_code = 1 if failed else 0
    await writer.append(types.ContainerExited(run_id=rid, ts=time.time(), exit_code=exit_code))
    await writer.append(types.JobTerminal(run_id=rid, ts=time.time(),
                                          outcome="failed" if failed else "complete"))
    await writer.append(types.ResultParsed(
        run_id=rid, ts=time.time(), exit_code=exit_code, session_id=result["session_id"],
        model="claude-opus-4-8", usage=result["usage"], cost_usd=result["total_cost_usd"],
        summary=result["result"], result_json=result,
        error_code="claude_failed" if failed else "",
        error_message="Claude exited with code 1" if failed else ""))
    await writer.append(types.RunFinished(
        run_id=rid, ts=time.time(), phase="failed" if failed else "succeeded",
        exit_code=exit_code, error_code="claude_failed" if failed else ""))


async def _hold(sup: Supervisor, handle: RunHandle, *, tick: bool) -> None:
    gate = _gates.setdefault(handle.run_id, trio.Event())
    async with trio.open_nursery() as nursery:
        async def until(event: trio.Event) -> None:
            await event.wait()
            nursery.cancel_scope.cancel()

        async def ticks() -> None:
            quiet_since = time.time()
            while True:
                await trio.sleep(TICK_SECONDS)
                await sup.writer.append(types.KeepaliveTicked(
                    run_id=handle.run_id, ts=time.time(),
                    silent_for=round(time.time() - quiet_since, 3), job_state="active"))

        nursery.start_soon(until, gate)
        nursery.start_soon(until, handle.cancel_requested)
        if tick:
            nursery.start_soon(ticks)
