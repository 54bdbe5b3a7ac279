"""Event logs shaped like the daemon's, written straight to the store (no cluster needed).

Why this module exists: replay figures need logs far bigger than a benchmark can produce
through kubesim in minutes (a million lines, a gigabyte). The events here are the ones the
daemon appends for a run — request, guard, manifest, Job, pod, one ``log.chunk`` per line
(what the follower writes when output arrives at a modest pace), keepalive ticks, exit,
result, cleanup, finish — interleaved across concurrent runs as group commit interleaves them.
The log text is a real-shaped stream-json transcript played by the fake claude.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from events import EventStore, types

BATCH = 2000  # rows per transaction: group commit under load
START_TS = 1_790_000_000.0
LINE_INTERVAL = 2.0  # seconds between a run's lines ("typical" Claude output)
KEEPALIVE_INTERVAL = 15.0  # the daemon's default
_KEEPALIVE_EVERY = round(KEEPALIVE_INTERVAL / LINE_INTERVAL)

Row = tuple[types.Event, bytes | None]


def transcript_lines(tools: int = 12) -> list[bytes]:
    """The lines of a fake-claude ``tool`` transcript: init, tool turns, text, result.

    Raises:
        RuntimeError: the fake claude did not run.
    """
    with tempfile.TemporaryDirectory(prefix="bench-transcript-") as home:
        done = subprocess.run(
            [sys.executable, "-m", "kubesim.fake_claude", "-p", "--output-format",
             "stream-json", "--verbose"],
            input=f"#scenario tool tools={tools}\nfix the failing test\n".encode(),
            capture_output=True, cwd=home, env={**os.environ, "HOME": home}, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"fake claude exited {done.returncode}: {done.stderr[-300:]!r}")
    return done.stdout.splitlines(keepends=True)


@dataclass(frozen=True)
class Shape:
    """What a synthetic log holds: ``runs`` concurrent runs of ``lines`` lines each."""

    runs: int
    lines: int


def _start(run_id: str, agent: str, ts: float) -> list[Row]:
    job = f"ac-{agent}-{run_id}"[:63]
    body = (b'{"runId":"%s","agent":{"id":"%s"},"prompt":"#scenario tool\\nfix the failing '
            b'test"}' % (run_id.encode(), agent.encode()))
    return [
        (types.RunRequested(run_id=run_id, ts=ts, agent_id=agent, fingerprint="f" * 64,
                            prompt_bytes=40), body),
        (types.GuardChecked(run_id=run_id, ts=ts, decision="proceed"), None),
        (types.ManifestBuilt(run_id=run_id, ts=ts, job_name=job, namespace="agents",
                             claude_args=["--print", "-", "--output-format", "stream-json",
                                          "--verbose", "--dangerously-skip-permissions"],
                             manifest_digest="0123456789abcdef"), None),
        (types.JobCreated(run_id=run_id, ts=ts, job_name=job, namespace="agents",
                          uid="6f1c1a52-8a0e-4f43-9d0c-2b4c8f0d9e11"), None),
        (types.PodPending(run_id=run_id, ts=ts + 1, pod_name=f"{job}-x7k2p",
                          detail="ContainerCreating"), None),
        (types.PodRunning(run_id=run_id, ts=ts + 2, pod_name=f"{job}-x7k2p"), None),
    ]


def _finish(run_id: str, ts: float, lines: int) -> list[Row]:
    usage = {"input_tokens": 21_000, "output_tokens": 9_000, "cache_read_input_tokens": 120_000}
    return [
        (types.JobTerminal(run_id=run_id, ts=ts, outcome="complete", reason="Complete"), None),
        (types.ContainerExited(run_id=run_id, ts=ts, exit_code=0, reason="Completed"), None),
        (types.ResultParsed(run_id=run_id, ts=ts, exit_code=0, session_id="s" * 36,
                            model="claude-opus-4-8", usage=usage, cost_usd=1.25,
                            summary=f"printed {lines} lines",
                            result_json={"type": "result", "subtype": "success",
                                         "is_error": False, "usage": usage}), None),
        (types.CleanupDone(run_id=run_id, ts=ts, deleted=[f"job/{run_id}"]), None),
        (types.RunFinished(run_id=run_id, ts=ts, phase="succeeded", exit_code=0), None),
    ]


def _chunk(run_id: str, ts: float, text: bytes, line: int) -> Row:
    stamp = f"2026-11-25T10:{(line // 60) % 60:02d}:{line % 60:02d}.{line:09d}Z"
    return (types.LogChunk(run_id=run_id, ts=ts, lines=1, nbytes=len(text), cursor_time=stamp,
                           cursor_count=1, first_time=stamp), text)


def events(shape: Shape, pool: list[bytes], *, first_run: int = 0) -> Iterator[Row]:
    """The events of ``shape.runs`` runs progressing together, in append order."""
    ids = [(f"run-{first_run + n:06d}", f"agent-{first_run + n:06d}") for n in range(shape.runs)]
    for run_id, agent in ids:
        yield from _start(run_id, agent, START_TS)
    for line in range(shape.lines):
        ts = START_TS + 2 + line * LINE_INTERVAL
        text = pool[line % len(pool)]
        for run_id, _ in ids:
            yield _chunk(run_id, ts, text, line)
        if line % _KEEPALIVE_EVERY == _KEEPALIVE_EVERY - 1:
            for run_id, _ in ids:
                yield (types.KeepaliveTicked(run_id=run_id, ts=ts, silent_for=1.5,
                                             job_state="active"), None)
    end = START_TS + 3 + shape.lines * LINE_INTERVAL
    for run_id, _ in ids:
        yield from _finish(run_id, end, shape.lines)


def write(log: EventStore, rows: Iterator[Row], *,
          after_batch: Callable[[], bool] | None = None) -> int:
    """Append rows in group-commit-sized transactions; returns how many were appended.

    ``after_batch`` is called after each transaction; returning True stops early.
    """
    total = 0
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            log.append(batch)
            total += len(batch)
            batch = []
            if after_batch is not None and after_batch():
                return total
    if batch:
        log.append(batch)
        total += len(batch)
    return total
