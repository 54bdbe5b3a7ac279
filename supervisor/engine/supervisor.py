"""The engine's front door: accept runs, cancel them, report state — one object per daemon.

``Supervisor.run`` is the root service: it folds the log, starts the writer, lets the
recovery pass reattach what the log says is still running, records
``supervisor.started``, and only then reports itself started (so the API never accepts a
run before recovery is done). Each accepted run gets one task in the supervisor's nursery;
the lifecycle itself lives in :mod:`supervisor.engine.run`.

Resource handling: everything the supervisor starts lives in its nursery. Stopping it
(``shutdown``) records ``supervisor.stopped`` and cancels the run tasks, which stop
following and never delete a Job.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from events import state as events_state
from events import store, types
from supervisor import __version__, runspec
from supervisor.engine.writer import EventWriter

MAX_RUN_RESTARTS = 5
RESTART_BACKOFF_MAX = 5.0
_log = logging.getLogger(__name__)

RunBody = Callable[["Supervisor", "RunHandle"], Awaitable[None]]
RecoveryPass = Callable[["Supervisor"], Awaitable[dict[str, int]]]


class RunConflict(Exception):
    """The same runId was posted with a different body."""


class UnknownRun(KeyError):
    """No run with this id in the log."""


class RunHandle:
    """The live side of one run: its request and how to stop it."""

    def __init__(self, run_id: str, request: runspec.RunRequest) -> None:
        self.run_id = run_id
        self.request = request
        self.cancel_requested = trio.Event()
        self.finished = trio.Event()
        self.scope: trio.CancelScope | None = None

    def __repr__(self) -> str:
        return (
            f"<RunHandle {self.run_id} cancel={self.cancel_requested.is_set()} "
            f"finished={self.finished.is_set()}>"
        )


class Supervisor:
    """Owns the log writer, the per-agent locks and the live runs.

    Args:
        log: the writable event store.
        run_body: the coroutine that drives one run (the lifecycle).
        recovery: the recovery pass run before the supervisor reports itself started.
        agent_lock_factory: per-agent lock type (the guard holds it across list+create).
    """

    def __init__(
        self, log: store.EventStore, *, run_body: RunBody, recovery: RecoveryPass | None = None
    ) -> None:
        self.log = log
        self.writer = EventWriter(log, events_state.LogState(runs={}))
        self._run_body = run_body
        self._recovery = recovery
        self._runs: dict[str, RunHandle] = {}
        self._agent_locks: dict[str, trio.Lock] = {}
        self._submit_lock = trio.Lock()
        self._nursery: trio.Nursery | None = None
        self.started_at: float | None = None
        # The daemon attaches its cluster access here (a ``supervisor.engine.cluster.Cluster``);
        # typed loosely so this module stays free of Kubernetes imports.
        self.cluster: Any = None
        self.recovery_summary: dict[str, int] = {}

    # --- state -------------------------------------------------------------------

    @property
    def state(self) -> events_state.LogState:
        """The fold of every event appended so far (kept current by the writer)."""
        return self.writer.state

    def run_state(self, run_id: str) -> events_state.RunState:
        try:
            return self.state.runs[run_id]
        except KeyError:
            raise UnknownRun(run_id) from None

    def handle(self, run_id: str) -> RunHandle | None:
        return self._runs.get(run_id)

    def active_runs(self) -> list[str]:
        return [rid for rid, h in self._runs.items() if not h.finished.is_set()]

    def agent_lock(self, agent_id: str) -> trio.Lock:
        """Two runs of one agent never pass the concurrency guard at the same time."""
        return self._agent_locks.setdefault(agent_id, trio.Lock())

    # --- the service -------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        started = time.perf_counter()
        self.writer.state = await trio.to_thread.run_sync(
            lambda: events_state.fold(self.log.iter(0, with_data=False))
        )
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            await nursery.start(self.writer.run)
            if self._recovery is not None:
                self.recovery_summary = await self._recovery(self)
            await self.writer.append(
                types.SupervisorStarted(
                    ts=time.time(),
                    pid=os.getpid(),
                    version=__version__,
                    recovery=self.recovery_summary,
                    recovery_seconds=round(time.perf_counter() - started, 6),
                )
            )
            self.started_at = time.time()
            task_status.started()
            await trio.sleep_forever()

    async def shutdown(self, reason: str) -> None:
        """Record the stop, then stop following every run. Never deletes a Job."""
        await self.writer.append(types.SupervisorStopped(ts=time.time(), reason=reason))
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel(reason=f"supervisor stopping: {reason}")

    # --- commands ----------------------------------------------------------------

    async def submit(self, request: runspec.RunRequest, body: bytes) -> tuple[events_state.RunState, bool]:
        """Accept a run (idempotent on runId). Returns its state and whether it is new.

        Raises:
            RunConflict: the runId exists with a different request.
        """
        fingerprint = request.fingerprint()
        async with self._submit_lock:
            existing = self.state.runs.get(request.run_id)
            if existing is not None:
                if existing.fingerprint != fingerprint:
                    raise RunConflict(
                        f"run {request.run_id!r} already exists with a different request"
                    )
                return existing, False
            await self.writer.append(
                types.RunRequested(
                    run_id=request.run_id,
                    ts=time.time(),
                    agent_id=request.agent.id,
                    agent_name=request.agent.name or "",
                    company_id=request.agent.company_id or "",
                    task_key=request.task_key or "",
                    session_id=request.session_id or "",
                    fingerprint=fingerprint,
                    prompt_bytes=len(request.prompt.encode()),
                ),
                body,
            )
            self.launch(request)
        return self.state.runs[request.run_id], True

    def launch(self, request: runspec.RunRequest) -> RunHandle:
        """Start (or restart, during recovery) the task that drives a run."""
        assert self._nursery is not None, "supervisor is not running"
        handle = RunHandle(request.run_id, request)
        self._runs[request.run_id] = handle
        self._nursery.start_soon(self._drive, handle, name=f"run {request.run_id}")
        return handle

    async def _drive(self, handle: RunHandle) -> None:
        """Run the lifecycle; a crash (a bug) is recorded and the run resumes from the log.

        The lifecycle reads where the run stands from the fold, so starting it again resumes
        following from the recorded cursor. After ``MAX_RUN_RESTARTS`` crashes the run ends
        with ``supervisor_error`` rather than crash-looping; the daemon keeps running.
        """
        restarts = 0
        try:
            with trio.CancelScope() as scope:
                handle.scope = scope
                while True:
                    try:
                        await self._run_body(self, handle)
                        return
                    except Exception as exc:  # a bug in one run must not stop the others
                        restarts += 1
                        _log.exception("run %s crashed (%d)", handle.run_id, restarts)
                        await self.writer.append(types.FollowerCrashed(
                            run_id=handle.run_id, ts=time.time(),
                            error=f"{type(exc).__name__}: {exc}"[:2000], restarts=restarts))
                        if restarts >= MAX_RUN_RESTARTS:
                            await self._give_up(handle.run_id, exc)
                            return
                        await trio.sleep(min(RESTART_BACKOFF_MAX, 0.1 * 2 ** restarts))
        finally:
            handle.finished.set()

    async def _give_up(self, run_id: str, exc: Exception) -> None:
        if self.run_state(run_id).terminal:
            return
        message = f"the run's task crashed {MAX_RUN_RESTARTS} times; last: {type(exc).__name__}: {exc}"
        await self.writer.append(types.RunFinished(
            run_id=run_id, ts=time.time(), phase=events_state.FAILED,
            error_code="supervisor_error", error_message=message[:2000]))

    async def cancel(
        self, run_id: str, *, reason: str = "", requested_by: str = ""
    ) -> events_state.RunState:
        """Record a cancel request (idempotent) and tell the run's task."""
        run = self.run_state(run_id)
        if not run.terminal and not run.cancel_requested:
            await self.writer.append(
                types.CancelRequested(
                    run_id=run_id, ts=time.time(), reason=reason, requested_by=requested_by
                )
            )
        handle = self._runs.get(run_id)
        if handle is not None:
            handle.cancel_requested.set()
        return self.run_state(run_id)

    async def prune(self, run_ids: list[str], *, finished_before: float) -> tuple[int, int]:
        """Delete whole finished runs, then record it; returns (events removed, summary seq).

        Holds the submit lock, so a re-posted runId can never be answered from a run that is
        being deleted at that moment.
        """
        async with self._submit_lock:
            removed = await trio.to_thread.run_sync(self.log.delete_runs, run_ids)
            seq = await self.writer.append(types.RunsPruned(
                ts=time.time(), run_ids=run_ids, finished_before=finished_before,
                events_removed=removed))
        return removed, seq

    # --- reporting ---------------------------------------------------------------

    def request_of(self, run_id: str) -> bytes | None:
        """The request body recorded with the run (for recovery and inspection)."""
        for stored in self.log.read(0, run_id=run_id, kinds=("run.requested",), limit=1):
            return stored.data
        return None

    def statistics(self) -> dict[str, Any]:
        phases: dict[str, int] = {}
        for run in self.state.runs.values():
            phases[run.phase] = phases.get(run.phase, 0) + 1
        return {
            "runs_by_phase": phases,
            "active_runs": len(self.active_runs()),
            "events_appended": self.writer.events_appended,
            "commits": self.writer.commits,
            "append_seconds_total": self.writer.append_seconds_total,
            "last_seq": self.state.last_seq,
            "reconnects": sum(r.reconnects for r in self.state.runs.values()),
            "gaps": sum(r.gaps for r in self.state.runs.values()),
        }
