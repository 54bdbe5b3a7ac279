"""Scripted faults: what they are (msgspec structs, the same shape in Python and over HTTP).

Two families:

* **Standing faults** stay registered and are consulted as traffic and pods go by, each for the
  next ``times`` matches or for ``for_seconds`` (Trio clock) or until cleared: HTTP errors,
  latency, cut or hung log streams, unschedulable pods, image-pull failures, crash loops and
  early exits.
* **Actions** happen once, at once: rotate a container's log, evict a pod, delete a Job behind
  the client's back.

Name fields (``namespace``, ``pod``, ``job``, ``container``, ``image``) are regular expressions
that must match the whole name; ``path`` and ``query`` are searched anywhere in the request's
path and raw query string. Anything random (``probability``, ``after_bytes_max``) draws from
the simulator's seeded generator, so a run is repeatable given the seed and the call order.
"""

from __future__ import annotations

import re

import msgspec

_HTTP_STATUSES = {404, 409, 410, 429, 500, 503}


def _check_regex(field: str, pattern: str | None) -> None:
    if pattern is None:
        return
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{field}: invalid regular expression {pattern!r}: {exc}") from exc


def _check_window(times: int | None, for_seconds: float | None) -> None:
    if times is not None and times < 1:
        raise ValueError("times must be at least 1")
    if for_seconds is not None and for_seconds <= 0:
        raise ValueError("for_seconds must be positive")


def _check_probability(probability: float) -> None:
    if not 0.0 < probability <= 1.0:
        raise ValueError("probability must be in (0, 1]")


class _Base(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, tag_field="kind"):
    pass


class _PodTarget(_Base, kw_only=True):
    namespace: str = ".*"
    pod: str = ".*"
    job: str | None = None
    container: str = ".*"

    def _check_target(self) -> None:
        for field in ("namespace", "pod", "job", "container"):
            _check_regex(field, getattr(self, field))


class HttpError(_Base, tag="http_error", kw_only=True):
    """Answer matching requests with an error status (and ``Retry-After`` for 429)."""

    status: int
    path: str = ".*"
    method: str | None = None
    query: str | None = None
    times: int | None = None
    for_seconds: float | None = None
    retry_after: int = 1
    probability: float = 1.0
    message: str | None = None

    def __post_init__(self) -> None:
        if self.status not in _HTTP_STATUSES:
            raise ValueError(f"status must be one of {sorted(_HTTP_STATUSES)}, not {self.status}")
        _check_regex("path", self.path)
        _check_regex("query", self.query)
        _check_window(self.times, self.for_seconds)
        _check_probability(self.probability)
        if self.retry_after < 0:
            raise ValueError("retry_after must not be negative")


class Latency(_Base, tag="latency", kw_only=True):
    """Delay matching requests before they are handled."""

    seconds: float
    path: str = ".*"
    method: str | None = None
    query: str | None = None
    times: int | None = None
    for_seconds: float | None = None
    probability: float = 1.0

    def __post_init__(self) -> None:
        if self.seconds < 0:
            raise ValueError("seconds must not be negative")
        _check_regex("path", self.path)
        _check_regex("query", self.query)
        _check_window(self.times, self.for_seconds)
        _check_probability(self.probability)


class LogCut(_PodTarget, tag="log_cut", kw_only=True):
    """Cut pod-log streams after some bytes or seconds.

    ``after_bytes`` counts body bytes (timestamps included); with ``after_bytes_max`` each cut
    point is drawn uniformly from ``[after_bytes, after_bytes_max]``. With
    ``live_bytes_only`` the count starts once the stream has caught up with what the log held
    when it was opened: a reconnect that replays a long backlog is then not cut inside the
    replay, which models connections that drop under live traffic. ``clean_end`` ends the body
    properly (as if the container exited) instead of dropping the connection mid-body.
    """

    after_bytes: int | None = None
    after_bytes_max: int | None = None
    after_seconds: float | None = None
    live_bytes_only: bool = False
    clean_end: bool = False
    times: int | None = None
    for_seconds: float | None = None
    probability: float = 1.0

    def __post_init__(self) -> None:
        self._check_target()
        if self.after_bytes is None and self.after_seconds is None:
            raise ValueError("a log cut needs after_bytes or after_seconds")
        if self.after_bytes is not None and self.after_bytes < 0:
            raise ValueError("after_bytes must not be negative")
        if self.after_bytes_max is not None and (
            self.after_bytes is None or self.after_bytes_max < self.after_bytes
        ):
            raise ValueError("after_bytes_max needs after_bytes and must not be smaller")
        if self.after_seconds is not None and self.after_seconds < 0:
            raise ValueError("after_seconds must not be negative")
        _check_window(self.times, self.for_seconds)
        _check_probability(self.probability)


class LogHang(_PodTarget, tag="log_hang", kw_only=True):
    """Stop sending on pod-log streams after ``after_bytes`` and never close them."""

    after_bytes: int = 0
    times: int | None = None
    for_seconds: float | None = None

    def __post_init__(self) -> None:
        self._check_target()
        if self.after_bytes < 0:
            raise ValueError("after_bytes must not be negative")
        _check_window(self.times, self.for_seconds)


class Unschedulable(_PodTarget, tag="unschedulable", kw_only=True):
    """Matching pods are never scheduled: ``PodScheduled=False``, reason ``Unschedulable``."""

    message: str = (
        "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
        "1 No preemption victims found for incoming pod."
    )

    def __post_init__(self) -> None:
        self._check_target()


class ImagePullFailure(_PodTarget, tag="image_pull", kw_only=True):
    """Matching containers never start: ``ErrImagePull``, then ``ImagePullBackOff``."""

    image: str = ".*"

    def __post_init__(self) -> None:
        self._check_target()
        _check_regex("image", self.image)


class CrashLoop(_PodTarget, tag="crash_loop", kw_only=True):
    """Matching containers exit with ``exit_code`` at once, every time, in ``CrashLoopBackOff``.

    The shape a restarting container has (``restartCount`` growing, ``lastState.terminated``,
    waiting reason ``CrashLoopBackOff``), whatever the pod's restartPolicy.
    """

    exit_code: int = 1

    def __post_init__(self) -> None:
        self._check_target()


class ExitEarly(_PodTarget, tag="exit_early", kw_only=True):
    """Matching containers end with ``exit_code`` after ``after_seconds`` (0: before starting)."""

    exit_code: int
    after_seconds: float = 0.0

    def __post_init__(self) -> None:
        self._check_target()
        if self.after_seconds < 0:
            raise ValueError("after_seconds must not be negative")


class RotateLogs(_Base, tag="rotate_logs", kw_only=True):
    """Rotate the current log file of a pod's containers now (action)."""

    namespace: str
    pod: str
    container: str | None = None


class EvictPod(_Base, tag="evict_pod", kw_only=True):
    """Evict a pod now: processes killed, phase Failed, reason Evicted (action)."""

    namespace: str
    pod: str
    message: str = "The node was low on resource: memory. "


class DeleteJob(_Base, tag="delete_job", kw_only=True):
    """Delete a Job now, outside the API (not recorded as a request) (action)."""

    namespace: str
    job: str
    propagation_policy: str = "Background"

    def __post_init__(self) -> None:
        if self.propagation_policy not in ("Background", "Foreground", "Orphan"):
            raise ValueError("propagation_policy must be Background, Foreground or Orphan")


StandingFault = (
    HttpError | Latency | LogCut | LogHang | Unschedulable | ImagePullFailure | CrashLoop
    | ExitEarly
)
Action = RotateLogs | EvictPod | DeleteJob
Fault = StandingFault | Action

STANDING_TYPES = (
    HttpError, Latency, LogCut, LogHang, Unschedulable, ImagePullFailure, CrashLoop, ExitEarly
)
ACTION_TYPES = (RotateLogs, EvictPod, DeleteJob)


def decode(body: bytes) -> Fault:
    """Decode one fault from its JSON form (``{"kind": "http_error", ...}``).

    Raises:
        ValueError: the body is not a valid fault; the message names the bad field.
    """
    try:
        fault: Fault = msgspec.json.decode(body, type=Fault)
    except msgspec.DecodeError as exc:
        raise ValueError(str(exc)) from exc
    return fault


def encode(fault: Fault) -> bytes:
    """The JSON form of a fault."""
    return msgspec.json.encode(fault)
