"""What every handler shares: the supervisor, the limits, the open streams, the cluster probe.

Why this module exists: handlers stay plain functions of ``(context, request)``; everything
long-lived they need — and everything the server must reach to stop them — hangs off one
:class:`ApiContext` built by the daemon.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

import trio

from events import state
from supervisor import config
from supervisor.api import reader, schemas
from supervisor.engine.supervisor import Supervisor

ClusterProbe = Callable[[], Awaitable[schemas.ComponentHealth]]
"""Answers "can we reach the Kubernetes API?" for ``/v1/healthz`` (quickly, never raising)."""



class OpenStream:
    """One NDJSON stream being served: what it follows and how far it has sent."""

    def __init__(self, run_id: str | None, cursor: int) -> None:
        self.run_id = run_id
        self.cursor = cursor
        self.scope = trio.CancelScope()

    def lag(self, folded: state.LogState) -> int:
        """Events the log holds that this stream has not sent yet."""
        if self.run_id is None:
            newest = folded.last_seq
        else:
            run = folded.runs.get(self.run_id)
            newest = run.last_seq if run is not None else self.cursor
        return max(0, newest - self.cursor)

    def __repr__(self) -> str:
        return f"<OpenStream run={self.run_id} cursor={self.cursor}>"


class StreamRegistry:
    """The streams currently being served; the server ends them all when the daemon stops."""

    def __init__(self) -> None:
        self._open: set[OpenStream] = set()
        self.closed = False
        self.served = 0

    @contextmanager
    def track(self, run_id: str | None, cursor: int) -> Iterator[OpenStream]:
        """Register a stream for its lifetime; the body runs inside the stream's cancel scope."""
        entry = OpenStream(run_id, cursor)
        with entry.scope:
            if self.closed:
                entry.scope.cancel(reason="daemon stopping")
            self._open.add(entry)
            self.served += 1
            try:
                yield entry
            finally:
                self._open.discard(entry)

    def close_all(self, reason: str) -> None:
        """End every open stream (cleanly: each response is finished, not cut)."""
        self.closed = True
        for entry in list(self._open):
            entry.scope.cancel(reason=reason)

    def open_streams(self) -> list[OpenStream]:
        return list(self._open)


class ApiContext:
    """Everything the handlers share.

    Args:
        supervisor: the running engine.
        db_path: the event log's path (health checks look at its directory).
        max_request_bytes: request bodies above this are refused with 413.
        max_prompt_bytes: prompts above this are refused with 413.
        cluster_probe: health check of the Kubernetes API; None = no cluster client configured.
    """

    def __init__(self, supervisor: Supervisor, *, db_path: str,
                 max_request_bytes: int = config.DEFAULT_MAX_REQUEST_BYTES,
                 max_prompt_bytes: int = config.DEFAULT_MAX_PROMPT_BYTES,
                 cluster_probe: ClusterProbe | None = None,
                 rbac_probe: ClusterProbe | None = None,
                 read_connections: int = reader.DEFAULT_CONNECTIONS) -> None:
        self.supervisor = supervisor
        self.db_path = db_path
        self.max_request_bytes = max_request_bytes
        self.max_prompt_bytes = max_prompt_bytes
        self.cluster_probe = cluster_probe
        self.rbac_probe = rbac_probe
        self.streams = StreamRegistry()
        self.reader = reader.LogReader(db_path, connections=read_connections)
        self.prune_lock = trio.Lock()
        self.started_monotonic = time.monotonic()
        self.requests_total = 0
