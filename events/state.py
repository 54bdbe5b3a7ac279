"""Run state as a pure fold over the event log (design invariant 2).

``fold(events)`` always yields the same :class:`LogState` for the same events, and
:func:`state_hash` gives a stable digest of it, so two replays can be compared. Nothing
else is authoritative: the daemon's in-memory view is this fold kept up to date event
by event with :meth:`LogState.apply`. Log-chunk text is never looked at here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import msgspec

from events import codec, types

PENDING = "pending"
SCHEDULING = "scheduling"
RUNNING = "running"
FINISHING = "finishing"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELLED = "cancelled"
LOST = "lost"

PHASES = (PENDING, SCHEDULING, RUNNING, FINISHING, SUCCEEDED, FAILED, CANCELLED, LOST)
_PHASE_ORDER = {phase: index for index, phase in enumerate(PHASES)}
TERMINAL_PHASES = frozenset({SUCCEEDED, FAILED, CANCELLED, LOST})


class Cursor(msgspec.Struct):
    """Where a run's output resumes (design invariant 3)."""

    time: str = ""
    count: int = 0
    offset: int = -1


class RunResult(msgspec.Struct):
    """What the run produced, as Paperclip's execution result needs it."""

    exit_code: int | None = None
    signal: int | None = None
    timed_out: bool = False
    error_code: str = ""
    error_message: str = ""
    session_id: str = ""
    model: str = ""
    usage: dict[str, Any] = {}
    cost_usd: float | None = None
    summary: str = ""
    result_json: dict[str, Any] | None = None
    clear_session: bool = False


class RunState(msgspec.Struct):
    run_id: str
    agent_id: str = ""
    agent_name: str = ""
    company_id: str = ""
    task_key: str = ""
    session_id: str = ""
    fingerprint: str = ""
    phase: str = PENDING
    job_name: str = ""
    job_uid: str = ""
    namespace: str = ""
    pod_name: str = ""
    secret_name: str = ""
    log_path: str = ""
    pod_detail: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0
    last_output_at: float | None = None
    last_keepalive_at: float | None = None
    exit_code: int | None = None
    error_code: str = ""
    error_message: str = ""
    first_seq: int = 0
    last_seq: int = 0
    cursor: Cursor = msgspec.field(default_factory=Cursor)
    output_lines: int = 0
    output_bytes: int = 0
    gaps: int = 0
    reconnects: int = 0
    keepalives: int = 0
    reattached: int = 0
    follower_crashes: int = 0
    cancel_requested: bool = False
    job_created: bool = False
    job_outcome: str = ""
    result: RunResult | None = None

    @property
    def terminal(self) -> bool:
        return self.phase in TERMINAL_PHASES


class LogState(msgspec.Struct):
    """Everything the log says: each run's state plus daemon-level facts."""

    runs: dict[str, RunState] = {}
    last_seq: int = 0
    supervisor_starts: int = 0
    pruned_runs: int = 0

    def apply(self, stored: codec.StoredEvent) -> None:
        """Fold one more event in (events must come in seq order)."""
        self.last_seq = stored.seq
        event = stored.event
        if isinstance(event, types.UnknownEvent):
            return
        if not event.run_id:
            if isinstance(event, types.SupervisorStarted):
                self.supervisor_starts += 1
            elif isinstance(event, types.RunsPruned):
                self.pruned_runs += len(event.run_ids)
                for run_id in event.run_ids:
                    self.runs.pop(run_id, None)
            return
        run = self.runs.get(event.run_id)
        if run is None:
            run = self.runs[event.run_id] = RunState(
                run_id=event.run_id, created_at=event.ts, first_seq=stored.seq)
        run.last_seq = stored.seq
        run.updated_at = event.ts
        _apply_run(run, event)


def _advance(run: RunState, phase: str) -> None:
    """Phases only move forward; a terminal phase is final."""
    current = run.phase
    if current not in TERMINAL_PHASES and _PHASE_ORDER[phase] > _PHASE_ORDER[current]:
        run.phase = phase


def _apply_run(run: RunState, event: types.Event) -> None:
    if isinstance(event, types.LogChunk):
        run.output_lines += event.lines
        run.output_bytes += event.nbytes
        run.last_output_at = event.ts
        run.cursor = Cursor(event.cursor_time, event.cursor_count, event.cursor_offset)
        if run.phase != RUNNING:
            _advance(run, RUNNING)
    elif isinstance(event, types.KeepaliveTicked):
        run.keepalives += 1
        run.last_keepalive_at = event.ts
    elif isinstance(event, types.RunRequested):
        run.agent_id = event.agent_id
        run.agent_name = event.agent_name
        run.company_id = event.company_id
        run.task_key = event.task_key
        run.session_id = event.session_id
        run.fingerprint = event.fingerprint
    elif isinstance(event, types.ManifestBuilt):
        run.job_name = event.job_name
        run.namespace = event.namespace
        run.secret_name = event.secret_name
        run.log_path = event.log_path
    elif isinstance(event, types.JobCreated):
        run.job_name = event.job_name
        run.namespace = event.namespace
        run.job_uid = event.uid
        run.job_created = True
        _advance(run, SCHEDULING)
    elif isinstance(event, types.RunReattached):
        run.job_name = event.job_name
        run.namespace = event.namespace
        run.log_path = event.log_path or run.log_path
        run.job_created = True
        run.reattached += 1
        _advance(run, SCHEDULING)
    elif isinstance(event, types.PodPending):
        run.pod_name = event.pod_name or run.pod_name
        run.pod_detail = event.detail
        _advance(run, SCHEDULING)
    elif isinstance(event, types.PodScheduled):
        run.pod_name = event.pod_name
        _advance(run, SCHEDULING)
    elif isinstance(event, types.PodRunning):
        run.pod_name = event.pod_name
        _advance(run, RUNNING)
    elif isinstance(event, types.PodFailed):
        run.pod_name = event.pod_name or run.pod_name
        run.pod_detail = event.message or event.reason
    elif isinstance(event, types.OutputGap):
        run.gaps += 1
    elif isinstance(event, types.LogReconnected):
        run.reconnects += 1
    elif isinstance(event, types.CancelRequested):
        run.cancel_requested = True
    elif isinstance(event, types.FollowerCrashed):
        run.follower_crashes += 1
    elif isinstance(event, types.JobTerminal):
        run.job_outcome = event.outcome
        _advance(run, FINISHING)
    elif isinstance(event, types.ContainerExited):
        run.exit_code = event.exit_code
    elif isinstance(event, types.ResultParsed):
        fields = msgspec.structs.asdict(event)
        del fields["run_id"], fields["ts"]
        run.result = RunResult(**fields)
        if event.exit_code is not None:
            run.exit_code = event.exit_code
        _advance(run, FINISHING)
    elif isinstance(event, types.RunFinished):
        if not run.terminal:
            run.phase = event.phase
            run.error_code = event.error_code
            run.error_message = event.error_message
            if event.exit_code is not None:
                run.exit_code = event.exit_code
    # JobCreateFailed, GuardChecked, SecretCreated, LivenessRefreshed, Cleanup*: recorded
    # for the timeline; the run's outcome arrives as RunFinished.


def fold(events: Iterable[codec.StoredEvent]) -> LogState:
    """The state after the given events (in seq order). Pure."""
    state = LogState(runs={})
    for stored in events:
        state.apply(stored)
    return state


_hash_encoder = msgspec.json.Encoder(order="sorted")


def state_hash(state: LogState) -> str:
    """A stable digest of the state: equal states, equal hashes, across processes."""
    return hashlib.sha256(_hash_encoder.encode(state)).hexdigest()
