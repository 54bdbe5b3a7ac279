"""The event vocabulary: every fact the supervisor records, as frozen msgspec Structs.

Each class is past tense, carries a stable ``kind`` string (its msgspec tag, also the
``kind`` column in the store) and the two fields every event shares: ``run_id`` (empty
for daemon-wide events) and ``ts`` (wall-clock seconds since the epoch, when the fact
was observed). The schema version lives on the envelope (:class:`events.codec.StoredEvent`).

Bulky payloads (log text, the original request body) are *not* fields of the struct's
metadata: they travel in ``data`` so that a state-only replay never decodes them.
Adding a field with a default is a compatible change; anything else needs a version
bump and an upcaster in :mod:`events.codec`.
"""

from __future__ import annotations

from typing import Any

import msgspec

SCHEMA_VERSION = 1


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind"):
    """Fields every event carries."""

    run_id: str = ""
    ts: float = 0.0


# --- the run's request and launch -------------------------------------------------


class RunRequested(Event, frozen=True, tag="run.requested"):
    """A client asked for a run. ``data`` holds the request body as received (JSON)."""

    agent_id: str
    agent_name: str = ""
    company_id: str = ""
    task_key: str = ""
    session_id: str = ""
    fingerprint: str = ""
    prompt_bytes: int = 0


class GuardChecked(Event, frozen=True, tag="guard.checked"):
    """The per-agent concurrency guard ran: ``decision`` is proceed, reattach or block."""

    decision: str
    jobs_seen: list[str] = []
    target_job: str = ""
    reason: str = ""


class ManifestBuilt(Event, frozen=True, tag="manifest.built"):
    """The Job was rendered; recorded before creation so a restart can look the name up."""

    job_name: str
    namespace: str
    secret_name: str = ""
    log_path: str = ""
    claude_args: list[str] = []
    skipped_labels: list[str] = []
    manifest_digest: str = ""


class SecretCreated(Event, frozen=True, tag="secret.created"):
    name: str
    namespace: str
    size_bytes: int = 0


class JobCreated(Event, frozen=True, tag="job.created"):
    """The Job exists. ``adopted`` when a 409 proved an earlier attempt had created it."""

    job_name: str
    namespace: str
    uid: str = ""
    adopted: bool = False


class JobCreateFailed(Event, frozen=True, tag="job.create_failed"):
    job_name: str
    error_code: str
    message: str
    status: int = 0


class RunReattached(Event, frozen=True, tag="run.reattached"):
    """The run took over an existing Job (restart recovery or orphan adoption)."""

    job_name: str
    namespace: str
    mode: str  # follow | finish | adopt
    prior_run_id: str = ""
    log_path: str = ""  # the adopted Job's tee file, relative to the workspace volume's root


# --- the pod ----------------------------------------------------------------------


class PodPending(Event, frozen=True, tag="pod.pending"):
    """The pod exists but is not running yet; ``detail`` is the diagnostic line."""

    pod_name: str = ""
    detail: str = ""
    reason: str = ""


class PodScheduled(Event, frozen=True, tag="pod.scheduled"):
    pod_name: str
    node_name: str = ""


class PodRunning(Event, frozen=True, tag="pod.running"):
    pod_name: str


class PodFailed(Event, frozen=True, tag="pod.failed"):
    """The pod could not run (image pull, unschedulable, init failure, evicted, …)."""

    pod_name: str = ""
    reason: str = ""
    message: str = ""
    exit_code: int | None = None


# --- output -----------------------------------------------------------------------


class LogChunk(Event, frozen=True, tag="log.chunk"):
    """One or more complete lines the pod printed. The text itself is in ``data``.

    The cursor says where the chunk ends in its source (design invariant 3): for the
    pod-log API, ``cursor_time`` (the RFC3339Nano timestamp of its last line) and
    ``cursor_count`` (how many lines up to here carried that same timestamp); for a file
    on the shared volume, ``cursor_offset`` (bytes read so far).
    """

    stream: str = "stdout"
    lines: int = 0
    nbytes: int = 0
    cursor_time: str = ""
    cursor_count: int = 0
    cursor_offset: int = -1
    first_time: str = ""


class OutputGap(Event, frozen=True, tag="log.gap"):
    """Output that could not be recovered, with what is known about it."""

    reason: str
    from_time: str = ""
    to_time: str = ""
    lines: int | None = None
    nbytes: int | None = None


class LogReconnected(Event, frozen=True, tag="log.reconnected"):
    """The log stream ended or stalled while the container ran and was opened again."""

    attempt: int
    reason: str = ""
    since_time: str = ""


# --- liveness and control ---------------------------------------------------------


class KeepaliveTicked(Event, frozen=True, tag="keepalive.ticked"):
    silent_for: float = 0.0
    job_state: str = ""


class LivenessRefreshed(Event, frozen=True, tag="liveness.refreshed"):
    """A liveness check's reading of the Job (active, terminal, gone, error)."""

    job_state: str
    detail: str = ""


class CancelRequested(Event, frozen=True, tag="cancel.requested"):
    reason: str = ""
    requested_by: str = ""


class FollowerCrashed(Event, frozen=True, tag="follower.crashed"):
    """A bug in a run's task; it is restarted from its cursor."""

    error: str
    restarts: int = 0


# --- completion -------------------------------------------------------------------


class JobTerminal(Event, frozen=True, tag="job.terminal"):
    """outcome: complete, failed, deadline, gone, or mismatch (state unverifiable)."""

    outcome: str
    reason: str = ""
    message: str = ""


class ContainerExited(Event, frozen=True, tag="container.exited"):
    exit_code: int | None = None
    signal: int | None = None
    reason: str = ""


class ResultParsed(Event, frozen=True, tag="result.parsed"):
    """What the run's stream-json said, classified. ``result_json`` is the result event."""

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


class RunFinished(Event, frozen=True, tag="run.finished"):
    """Terminal. ``phase`` is succeeded, failed, cancelled or lost."""

    phase: str
    error_code: str = ""
    error_message: str = ""
    exit_code: int | None = None


class CleanupDone(Event, frozen=True, tag="cleanup.done"):
    deleted: list[str] = []


class CleanupSkipped(Event, frozen=True, tag="cleanup.skipped"):
    reason: str


# --- the daemon -------------------------------------------------------------------


class SupervisorStarted(Event, frozen=True, tag="supervisor.started"):
    pid: int = 0
    version: str = ""
    recovery: dict[str, int] = {}
    recovery_seconds: float = 0.0


class SupervisorStopped(Event, frozen=True, tag="supervisor.stopped"):
    reason: str = ""


class RunsPruned(Event, frozen=True, tag="runs.pruned"):
    run_ids: list[str] = []
    finished_before: float = 0.0
    events_removed: int = 0


AnyEvent = (
    RunRequested
    | GuardChecked
    | ManifestBuilt
    | SecretCreated
    | JobCreated
    | JobCreateFailed
    | RunReattached
    | PodPending
    | PodScheduled
    | PodRunning
    | PodFailed
    | LogChunk
    | OutputGap
    | LogReconnected
    | KeepaliveTicked
    | LivenessRefreshed
    | CancelRequested
    | FollowerCrashed
    | JobTerminal
    | ContainerExited
    | ResultParsed
    | RunFinished
    | CleanupDone
    | CleanupSkipped
    | SupervisorStarted
    | SupervisorStopped
    | RunsPruned
)

EVENT_CLASSES: dict[str, type[Event]] = {
    str(cls.__struct_config__.tag): cls for cls in AnyEvent.__args__
}


def kind_of(event: Event) -> str:
    """The stable type string of an event."""
    tag = type(event).__struct_config__.tag
    assert isinstance(tag, str)
    return tag


class UnknownEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event of a kind this version does not know (written by a newer supervisor).

    Kept and shown as-is, never crashed on, and ignored by the fold.
    """

    kind: str
    run_id: str = ""
    ts: float = 0.0
    raw: bytes = b""
