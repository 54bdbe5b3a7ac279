"""The standing faults of one simulator: which one applies to a request, a stream or a pod.

Each registered fault keeps its own budget (``times`` left, a Trio-clock deadline for
``for_seconds``); a fault whose budget is spent is dropped. Matching consumes budget, so
"the next 3 calls" means exactly the next three matching calls.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import trio

from kubesim import faults

F = TypeVar("F", bound=faults.StandingFault)


@dataclass
class _Entry:
    id: int
    fault: faults.StandingFault
    times_left: int | None
    deadline: float | None


@dataclass(frozen=True)
class HttpPlan:
    """What the standing faults do to one request."""

    delay: float = 0.0
    error: faults.HttpError | None = None


@dataclass(frozen=True)
class LogPlan:
    """What the standing faults do to one pod-log stream."""

    cut_after_bytes: int | None = None
    cut_after_seconds: float | None = None
    live_bytes_only: bool = False
    clean_end: bool = False
    hang_after_bytes: int | None = None

    @property
    def is_clean(self) -> bool:
        """True when nothing interferes with the stream."""
        return (
            self.cut_after_bytes is None
            and self.cut_after_seconds is None
            and self.hang_after_bytes is None
        )


def _full(pattern: str | None, value: str) -> bool:
    return pattern is None or re.fullmatch(pattern, value) is not None


def _search(pattern: str | None, value: str) -> bool:
    return pattern is None or re.search(pattern, value) is not None


def pod_matches(fault: Any, pod: Mapping[str, Any], container: str | None) -> bool:
    """Whether a pod-targeted fault names this pod (and container, when given)."""
    meta = pod.get("metadata", {})
    labels = meta.get("labels") or {}
    job_name = labels.get("batch.kubernetes.io/job-name") or labels.get("job-name") or ""
    if fault.job is not None and not _full(fault.job, job_name):
        return False
    return (
        _full(fault.namespace, meta.get("namespace", ""))
        and _full(fault.pod, meta.get("name", ""))
        and (container is None or _full(fault.container, container))
    )


class FaultRegistry:
    """Registered standing faults, consulted (and spent) as traffic goes by.

    Args:
        rng: the generator ``probability`` and ``after_bytes_max`` draw from.
    """

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._entries: list[_Entry] = []
        self._next_id = 1

    def __repr__(self) -> str:
        return f"<FaultRegistry {len(self._entries)} standing>"

    def add(self, fault: faults.StandingFault) -> int:
        """Register a standing fault; returns its id."""
        deadline = None
        for_seconds = getattr(fault, "for_seconds", None)
        if for_seconds is not None:
            deadline = trio.current_time() + for_seconds
        entry = _Entry(self._next_id, fault, getattr(fault, "times", None), deadline)
        self._next_id += 1
        self._entries.append(entry)
        return entry.id

    def remove(self, fault_id: int) -> bool:
        """Drop one fault; returns whether it was registered."""
        before = len(self._entries)
        self._entries = [entry for entry in self._entries if entry.id != fault_id]
        return len(self._entries) != before

    def clear(self) -> None:
        """Drop every standing fault."""
        self._entries.clear()

    def listing(self) -> list[dict[str, Any]]:
        """Every live fault with its id and remaining budget."""
        self._expire()
        return [
            {"id": entry.id, "fault": entry.fault, "times_left": entry.times_left}
            for entry in self._entries
        ]

    def _expire(self) -> None:
        now = trio.current_time()
        self._entries = [
            entry for entry in self._entries
            if (entry.deadline is None or now < entry.deadline)
            and (entry.times_left is None or entry.times_left > 0)
        ]

    def _roll(self, probability: float) -> bool:
        return probability >= 1.0 or self._rng.random() < probability

    def _spend(self, entry: _Entry) -> None:
        if entry.times_left is not None:
            entry.times_left -= 1

    def _candidates(self, kind: type[F]) -> list[tuple[_Entry, F]]:
        self._expire()
        return [(entry, entry.fault) for entry in self._entries if isinstance(entry.fault, kind)]

    def plan_request(self, method: str, path: str, query: str) -> HttpPlan:
        """Latency and error faults for one request (admin paths are never faulted)."""
        if path.startswith("/_kubesim"):
            return HttpPlan()
        delay = 0.0
        for entry, latency in self._candidates(faults.Latency):
            if self._request_matches(latency, method, path, query) and self._roll(
                latency.probability
            ):
                self._spend(entry)
                delay += latency.seconds
        for entry, error in self._candidates(faults.HttpError):
            if self._request_matches(error, method, path, query) and self._roll(
                error.probability
            ):
                self._spend(entry)
                return HttpPlan(delay, error)
        return HttpPlan(delay)

    @staticmethod
    def _request_matches(
        fault: faults.HttpError | faults.Latency, method: str, path: str, query: str
    ) -> bool:
        if fault.method is not None and fault.method.upper() != method.upper():
            return False
        return _search(fault.path, path) and _search(fault.query, query)

    def plan_log(self, pod: Mapping[str, Any], container: str) -> LogPlan:
        """Cut and hang faults for one pod-log stream."""
        for entry, hang in self._candidates(faults.LogHang):
            if pod_matches(hang, pod, container):
                self._spend(entry)
                return LogPlan(hang_after_bytes=hang.after_bytes)
        for entry, cut in self._candidates(faults.LogCut):
            if pod_matches(cut, pod, container) and self._roll(cut.probability):
                self._spend(entry)
                after_bytes = cut.after_bytes
                if after_bytes is not None and cut.after_bytes_max is not None:
                    after_bytes = self._rng.randint(after_bytes, cut.after_bytes_max)
                return LogPlan(
                    cut_after_bytes=after_bytes,
                    cut_after_seconds=cut.after_seconds,
                    live_bytes_only=cut.live_bytes_only,
                    clean_end=cut.clean_end,
                )
        return LogPlan()

    def pod_fault(
        self, kind: type[F], pod: Mapping[str, Any], container: str | None = None, **extra: str
    ) -> F | None:
        """The first registered fault of ``kind`` that names this pod (and container)."""
        for entry, fault in self._candidates(kind):
            if not pod_matches(fault, pod, container):
                continue
            if any(not _full(getattr(fault, name), value) for name, value in extra.items()):
                continue
            self._spend(entry)
            return fault
        return None
