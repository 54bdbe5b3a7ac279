"""Every request the simulator answered, and counters per request class.

The supervisor's API load is measured in request classes named the way the API server's audit
log names them: ``"<verb> <resource>"`` with the Kubernetes verb (``get``, ``list``, ``watch``,
``create``, ``update``, ``patch``, ``delete``) and the resource with its subresource
(``jobs``, ``pods``, ``pods/log``, ``secrets``, ``selfsubjectaccessreviews``). Discovery and
OpenAPI calls are ``"get discovery"``; the admin endpoints are not recorded.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class RecordedRequest:
    """One answered request."""

    method: str
    path: str
    query: str
    request_class: str
    status: int
    time: float


class Recorder:
    """Keeps the request log and the per-class counters.

    Args:
        limit: how many requests are kept in the log (the counters count everything).
    """

    def __init__(self, *, limit: int = 100_000) -> None:
        self._limit = limit
        self._log: list[RecordedRequest] = []
        self._counts: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"<Recorder {sum(self._counts.values())} requests, {len(self._counts)} classes>"

    def record(self, request: RecordedRequest) -> None:
        """Add one answered request."""
        self._counts[request.request_class] += 1
        self._log.append(request)
        if len(self._log) > self._limit:
            del self._log[: len(self._log) - self._limit]

    def count(self, request_class: str | None = None) -> int:
        """How many requests of ``request_class`` (or in total) were answered."""
        if request_class is None:
            return sum(self._counts.values())
        return self._counts[request_class]

    def counts(self) -> dict[str, int]:
        """Every request class with its count."""
        return dict(self._counts)

    def requests(self, request_class: str | None = None) -> list[RecordedRequest]:
        """The kept request log, oldest first (optionally one class only)."""
        if request_class is None:
            return list(self._log)
        return [request for request in self._log if request.request_class == request_class]

    def reset(self) -> None:
        """Forget everything recorded so far."""
        self._log.clear()
        self._counts.clear()
