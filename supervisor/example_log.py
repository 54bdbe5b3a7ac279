"""A small, realistic event log written without a cluster: one good run, one cut short.

Used by ``paperclip-supervisor demo --offline`` and by tests of the offline tools.
"""

from __future__ import annotations

import json
import time
from typing import Any

from events import store, types

_INIT = {
    "type": "system",
    "subtype": "init",
    "session_id": "5f1c9a0e-demo",
    "model": "claude-sonnet-4-6",
    "tools": ["Bash", "Read"],
    "cwd": "/paperclip",
}
_TEXT = {
    "type": "assistant",
    "message": {
        "id": "msg_1",
        "role": "assistant",
        "content": [{"type": "text", "text": "Looking at the failing test first."}],
    },
    "session_id": "5f1c9a0e-demo",
}
_TOOL = {
    "type": "assistant",
    "message": {
        "id": "msg_1",
        "role": "assistant",
        "content": [
            {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "pytest -q"}}
        ],
    },
    "session_id": "5f1c9a0e-demo",
}
_RESULT = {
    "type": "result",
    "subtype": "success",
    "is_error": False,
    "result": "Fixed the test.",
    "session_id": "5f1c9a0e-demo",
    "total_cost_usd": 0.0123,
    "num_turns": 2,
    "usage": {"input_tokens": 1200, "output_tokens": 340, "cache_read_input_tokens": 800},
}


def _lines(*objs: Any) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\n" for o in objs)


def write_example_log(path: str, *, start: float | None = None) -> None:
    """Write two runs' worth of events into a new log at ``path``."""
    t = time.time() if start is None else start
    ok, cut = "run-demo-ok", "run-demo-cut"
    with store.EventStore.open(path) as log:
        log.append([(types.SupervisorStarted(ts=t, pid=1, version="example"), None)])
        for run, agent in ((ok, "agent-7"), (cut, "agent-9")):
            job = f"ac-{agent}-{run}-abc123"
            log.append(
                [
                    (
                        types.RunRequested(
                            run_id=run, ts=t + 0.1, agent_id=agent, task_key="TASK-1"
                        ),
                        b'{"prompt": "fix the failing test"}',
                    ),
                    (
                        types.ManifestBuilt(
                            run_id=run, ts=t + 0.2, job_name=job, namespace="agents"
                        ),
                        None,
                    ),
                    (
                        types.JobCreated(
                            run_id=run, ts=t + 0.3, job_name=job, namespace="agents", uid="uid-1"
                        ),
                        None,
                    ),
                    (
                        types.PodPending(
                            run_id=run,
                            ts=t + 0.5,
                            pod_name=job + "-x1",
                            detail="phase=Pending, init/write-prompt: running",
                        ),
                        None,
                    ),
                    (types.PodRunning(run_id=run, ts=t + 2.0, pod_name=job + "-x1"), None),
                ]
            )
        first = _lines(_INIT, _TEXT)
        log.append(
            [
                (
                    types.LogChunk(
                        run_id=ok,
                        ts=t + 2.5,
                        lines=2,
                        nbytes=len(first),
                        cursor_time="2026-11-25T10:00:02.500000000Z",
                        cursor_count=1,
                    ),
                    first,
                )
            ]
        )
        log.append([(types.KeepaliveTicked(run_id=ok, ts=t + 17.0, silent_for=14.5), None)])
        rest = _lines(_TOOL, _RESULT)
        log.append(
            [
                (
                    types.LogChunk(
                        run_id=ok,
                        ts=t + 20.0,
                        lines=2,
                        nbytes=len(rest),
                        cursor_time="2026-11-25T10:00:20.000000000Z",
                        cursor_count=1,
                    ),
                    rest,
                ),
                (types.JobTerminal(run_id=ok, ts=t + 21.0, outcome="complete"), None),
                (types.ContainerExited(run_id=ok, ts=t + 21.1, exit_code=0), None),
                (
                    types.ResultParsed(
                        run_id=ok,
                        ts=t + 21.2,
                        exit_code=0,
                        session_id="5f1c9a0e-demo",
                        model="claude-sonnet-4-6",
                        cost_usd=0.0123,
                        summary="Fixed the test.",
                    ),
                    None,
                ),
                (types.RunFinished(run_id=ok, ts=t + 21.3, phase="succeeded", exit_code=0), None),
                (types.CleanupDone(run_id=ok, ts=t + 21.4, deleted=["job"]), None),
            ]
        )
        partial = _lines(_INIT) + b"plain text the pod printed\n"
        log.append(
            [
                (
                    types.LogChunk(
                        run_id=cut,
                        ts=t + 3.0,
                        lines=2,
                        nbytes=len(partial),
                        cursor_time="2026-11-25T10:00:03.000000000Z",
                        cursor_count=2,
                    ),
                    partial,
                ),
                (
                    types.LogReconnected(
                        run_id=cut,
                        ts=t + 9.0,
                        attempt=1,
                        reason="stream ended",
                        since_time="2026-11-25T10:00:03Z",
                    ),
                    None,
                ),
                (
                    types.JobTerminal(
                        run_id=cut,
                        ts=t + 95.0,
                        outcome="gone",
                        message="Job deleted outside the supervisor",
                    ),
                    None,
                ),
                (
                    types.OutputGap(
                        run_id=cut,
                        ts=t + 95.1,
                        reason="pod gone before output was read",
                        from_time="2026-11-25T10:00:03Z",
                    ),
                    None,
                ),
                (
                    types.RunFinished(
                        run_id=cut,
                        ts=t + 95.2,
                        phase="failed",
                        error_code="k8s_job_deleted_externally",
                        error_message="Job was deleted externally",
                    ),
                    None,
                ),
            ]
        )
