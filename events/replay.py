"""Offline views of a log: state at a position, per-run timeline, transcript.

Works on any copy of an event log with no cluster and no daemon. Everything here reads
through :class:`events.store.EventStore` and renders plain data; the command line only
chooses the format.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import msgspec

from events import codec, state, store, types

# A run quiet for longer than this (no output, no keepalive) is flagged as a silence.
DEFAULT_SILENCE_SECONDS = 60.0

# Events that change what an operator sees of a run: shown on the timeline.
_QUIET_KINDS = frozenset({"log.chunk", "keepalive.ticked"})


class TimelineEntry(msgspec.Struct):
    seq: int
    at: float  # seconds since the run's first event
    kind: str
    summary: str


def state_at(log: store.EventStore, until: int | None = None) -> state.LogState:
    """Fold the log up to and including ``until`` (state only: no log text decoded)."""
    return state.fold(log.iter(0, until=until, with_data=False))


def timeline(
    log: store.EventStore,
    run_id: str,
    *,
    until: int | None = None,
    silence_seconds: float = DEFAULT_SILENCE_SECONDS,
) -> list[TimelineEntry]:
    """The run's transitions with relative times, plus gaps and silences."""
    entries: list[TimelineEntry] = []
    start: float | None = None
    last_sign_of_life: float | None = None
    output_lines = 0
    for stored in log.iter(0, until=until, run_id=run_id, with_data=False):
        ev = stored.event
        if start is None:
            start = ev.ts
            last_sign_of_life = ev.ts
        assert last_sign_of_life is not None
        quiet_for = ev.ts - last_sign_of_life
        if quiet_for > silence_seconds:
            entries.append(TimelineEntry(
                seq=stored.seq, at=last_sign_of_life - start, kind="silence",
                summary=f"no output or keepalive for {quiet_for:.1f}s"))
        last_sign_of_life = ev.ts
        if isinstance(ev, types.LogChunk):
            output_lines += ev.lines
            continue
        if stored.kind in _QUIET_KINDS:
            continue
        entries.append(TimelineEntry(seq=stored.seq, at=ev.ts - start, kind=stored.kind,
                                     summary=describe(stored, output_lines=output_lines)))
    return entries


def describe(stored: codec.StoredEvent, *, output_lines: int = 0) -> str:
    """A one-line human summary of an event's fields (never its log text)."""
    fields = codec.event_to_json(stored)
    for key in ("seq", "runId", "ts", "kind", "text"):
        fields.pop(key, None)
    parts = [f"{key}={_short(value)}" for key, value in fields.items()
             if value is not False and value not in ("", None, [], {})]
    if stored.kind in ("run.finished", "job.terminal"):
        parts.append(f"outputLines={output_lines}")
    return " ".join(parts)


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else msgspec.json.encode(value).decode()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def transcript(log: store.EventStore, run_id: str, *, until: int | None = None) -> Iterator[str]:
    """The run's output, in order, exactly as the pod printed it."""
    for stored in log.iter(0, until=until, run_id=run_id, kinds=("log.chunk", "log.gap")):
        if isinstance(stored.event, types.OutputGap):
            yield f"[gap: {stored.event.reason}]\n"
        else:
            yield stored.text()


def iso(ts: float | None) -> str | None:
    """RFC3339 UTC for a wall-clock timestamp."""
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def run_to_json(run: state.RunState) -> dict[str, Any]:
    """The run state as the API and ``replay --format json`` show it (camelCase)."""
    return {
        "runId": run.run_id,
        "agentId": run.agent_id,
        "taskKey": run.task_key,
        "sessionId": run.session_id,
        "phase": run.phase,
        "jobName": run.job_name,
        "namespace": run.namespace,
        "podName": run.pod_name,
        "createdAt": iso(run.created_at),
        "updatedAt": iso(run.updated_at),
        "lastOutputAt": iso(run.last_output_at),
        "lastKeepaliveAt": iso(run.last_keepalive_at),
        "exitCode": run.exit_code,
        "errorCode": run.error_code or None,
        "errorMessage": run.error_message or None,
        "lastSeq": run.last_seq,
        "outputLines": run.output_lines,
        "outputBytes": run.output_bytes,
        "gaps": run.gaps,
        "reconnects": run.reconnects,
        "cancelRequested": run.cancel_requested,
    }


def render_text(
    log: store.EventStore, *, run_id: str | None = None, until: int | None = None,
    show_transcript: bool = True,
) -> Iterator[str]:
    """Human-readable replay: state, then per run its timeline and transcript."""
    folded = state_at(log, until)
    runs = [folded.runs[run_id]] if run_id is not None else list(folded.runs.values())
    yield (f"event log {log.path}: {folded.last_seq} events, {len(folded.runs)} runs, "
           f"{folded.supervisor_starts} supervisor starts, state {state.state_hash(folded)[:16]}\n")
    for run in runs:
        yield (f"\nrun {run.run_id}  agent={run.agent_id} phase={run.phase}"
               f" job={run.job_name or '-'} exit={run.exit_code}"
               f" error={run.error_code or '-'} lines={run.output_lines}"
               f" gaps={run.gaps} reconnects={run.reconnects}\n")
        for entry in timeline(log, run.run_id, until=until):
            yield f"  +{entry.at:9.3f}s  #{entry.seq:<7} {entry.kind:<18} {entry.summary}\n"
        if show_transcript and run.output_lines:
            yield "  --- transcript ---\n"
            yield from transcript(log, run.run_id, until=until)
            yield "  --- end ---\n"


def render_json(log: store.EventStore, *, run_id: str | None = None,
                until: int | None = None) -> dict[str, Any]:
    """Machine-readable replay: the state hash, each run's state and timeline."""
    folded = state_at(log, until)
    runs = [folded.runs[run_id]] if run_id is not None else list(folded.runs.values())
    return {
        "lastSeq": folded.last_seq,
        "stateHash": state.state_hash(folded),
        "supervisorStarts": folded.supervisor_starts,
        "runs": [
            {**run_to_json(run),
             "timeline": [msgspec.to_builtins(e) for e in timeline(log, run.run_id, until=until)]}
            for run in runs
        ],
    }
