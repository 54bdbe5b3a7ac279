"""One run's timeline as plain data: phase bands, marks, output rate, keepalives, silences.

Why this module exists: the HTML timeline draws a run and the run diff compares two, and both
need the same reading of the log. It is built in one streaming pass over the run's events
(state only: log text is never decoded) plus the daemon-wide events recorded while the run
was live, so supervisor restarts appear on the run's own timeline. Phases come from the fold
itself (:meth:`events.LogState.apply`), so the picture can never disagree with ``replay``.
All times are seconds since the run's first event.
"""

from __future__ import annotations

import bisect
import itertools
from array import array

import msgspec

from events import codec, replay, state, store, types
from supervisor.report import errors

# Columns of the output-rate plot: enough to see bursts, few enough to stay small for 100k lines.
DEFAULT_BUCKETS = 240

# The mark lanes, top to bottom.
LANES = ("restart", "reconnect", "gap", "fault", "control")

# Pod conditions that mean "this pod will not get better by waiting".
_FAULTY_POD_WORDS = ("ImagePullBackOff", "ErrImagePull", "InvalidImageName", "CrashLoopBackOff",
                     "CreateContainerConfigError", "CreateContainerError", "Unschedulable",
                     "FailedScheduling", "Evicted", "OOMKilled")


class Band(msgspec.Struct, frozen=True):
    """The run was in ``phase`` from ``start`` to ``end``."""

    phase: str
    start: float
    end: float


class Mark(msgspec.Struct, frozen=True):
    """A lifecycle event at ``at``; ``lane`` is empty for events that get no mark."""

    seq: int
    at: float
    kind: str
    summary: str
    lane: str = ""
    severity: str = "info"  # info | warn | error


class Silence(msgspec.Struct, frozen=True):
    """No output from ``start`` to ``end`` while the run was running."""

    start: float
    end: float
    keepalives: int


class Downtime(msgspec.Struct, frozen=True):
    """The supervisor was not running: stopped cleanly, or (``clean`` false) it crashed and
    ``start`` is the last event seen before it came back."""

    start: float
    end: float
    clean: bool


class Bucket(msgspec.Struct, frozen=True):
    start: float
    end: float
    lines: int
    nbytes: int


class RunView(msgspec.Struct, frozen=True):
    """Everything the timeline shows about one run."""

    run: state.RunState
    start_ts: float  # wall-clock time of the run's first event
    duration: float  # seconds from the first to the last event shown
    live: bool  # no run.finished yet
    bands: list[Band]
    events: list[Mark]  # every event except output and keepalives, in seq order
    keepalives: list[float]
    silences: list[Silence]
    downtimes: list[Downtime]
    buckets: list[Bucket]
    chunks: int
    restarts: int
    first_output: float | None  # when the first output chunk was recorded

    @property
    def marks(self) -> list[Mark]:
        """The events drawn as marks on a lane."""
        return [event for event in self.events if event.lane]


def build_run_view(
    log: store.EventStore,
    run_id: str,
    *,
    until: int | None = None,
    silence_seconds: float = replay.DEFAULT_SILENCE_SECONDS,
    buckets: int = DEFAULT_BUCKETS,
) -> RunView:
    """Read one run's timeline from the log.

    Args:
        log: an open event log (read-only is fine).
        run_id: the run to show.
        until: ignore events after this seq.
        silence_seconds: a stretch without output longer than this, while the run was
            running, is reported as a silence.
        buckets: how many columns the output-rate plot has.

    Raises:
        UnknownRun: the run has no events (up to ``until``).
    """
    if silence_seconds <= 0:
        raise errors.ReportError(f"silence threshold must be > 0 seconds, got {silence_seconds}")
    if buckets < 1:
        raise errors.ReportError(f"the rate plot needs at least 1 bucket, got {buckets}")
    folded = state.LogState(runs={})
    seqs, times = array("q"), array("d")  # every run event, for "what came just before"
    chunk_at, chunk_lines, chunk_bytes = array("d"), array("q"), array("q")
    keepalives: list[float] = []
    events: list[Mark] = []
    bands: list[Band] = []
    phase, phase_since = "", 0.0
    running: list[float] = []  # when the run entered, and left, the running phase
    start_ts: float | None = None
    for stored in log.iter(0, until=until, run_id=run_id, with_data=False):
        if start_ts is None:
            start_ts = stored.ts
        at = stored.ts - start_ts
        seqs.append(stored.seq)
        times.append(at)
        folded.apply(stored)
        now = folded.runs[run_id].phase
        if now != phase:
            if phase:
                bands.append(Band(phase, phase_since, at))
            if (now == state.RUNNING) != (phase == state.RUNNING):
                running.append(at)
            phase, phase_since = now, at
        event = stored.event
        if isinstance(event, types.LogChunk):
            chunk_at.append(at)
            chunk_lines.append(event.lines)
            chunk_bytes.append(event.nbytes)
        elif isinstance(event, types.KeepaliveTicked):
            keepalives.append(at)
        else:
            events.append(_mark(stored, at, output_lines=folded.runs[run_id].output_lines))
    if start_ts is None:
        raise errors.UnknownRun(run_id, log.path)
    run = folded.runs[run_id]
    live = not run.terminal
    daemon = _daemon_events(log, run, start_ts, until=until, live=live)
    downtimes = _downtimes(daemon, seqs, times)
    events = sorted(events + daemon, key=lambda mark: mark.seq)
    end = max(max(times), daemon[-1].at if daemon else 0.0)  # clocks can step back
    duration = max(end, 1e-3)
    bands.append(Band(phase, phase_since, duration))
    if len(running) == 1:
        running.append(duration)
    silences = _silences(running, chunk_at, keepalives, silence_seconds)
    return RunView(
        run=run, start_ts=start_ts, duration=duration, live=live, bands=bands, events=events,
        keepalives=keepalives, silences=silences, downtimes=downtimes,
        buckets=_buckets(duration, buckets, chunk_at, chunk_lines, chunk_bytes),
        chunks=len(chunk_at), first_output=chunk_at[0] if chunk_at else None,
        restarts=sum(1 for mark in daemon if mark.kind == "supervisor.started"))


def lane_of(stored: codec.StoredEvent) -> tuple[str, str] | None:
    """The (lane, severity) an event is marked on, or None if it gets no mark."""
    event = stored.event
    if isinstance(event, types.LogReconnected):
        return "reconnect", "warn"
    if isinstance(event, types.OutputGap):
        return "gap", "error"
    if isinstance(event, types.SupervisorStarted):
        return "restart", "warn"
    if isinstance(event, types.SupervisorStopped):
        return "restart", "info"
    if isinstance(event, types.PodFailed | types.JobCreateFailed | types.FollowerCrashed):
        return "fault", "error"
    if isinstance(event, types.PodPending):
        return ("fault", "warn") if pod_trouble(event) else None
    if isinstance(event, types.ContainerExited):
        failed = event.exit_code not in (None, 0) or event.signal is not None
        return ("fault", "error") if failed else None
    if isinstance(event, types.ResultParsed):
        return ("fault", "error") if event.error_code else None
    if isinstance(event, types.LivenessRefreshed):
        return ("fault", "warn") if event.job_state in ("error", "gone") else None
    if isinstance(event, types.CancelRequested):
        return "control", "info"
    if isinstance(event, types.JobTerminal):
        return "control", ("info" if event.outcome == "complete" else "error")
    if isinstance(event, types.RunFinished):
        return ("control", "error") if event.error_code else None
    return None


def pod_trouble(event: types.PodPending) -> str:
    """The condition that makes a pending pod look stuck (e.g. ``ImagePullBackOff``), or ""."""
    text = f"{event.reason} {event.detail}"
    return next((word for word in _FAULTY_POD_WORDS if word in text), "")


def _mark(stored: codec.StoredEvent, at: float, *, output_lines: int = 0) -> Mark:
    placed = lane_of(stored)
    lane, severity = placed if placed is not None else ("", "info")
    summary = replay.describe(stored, output_lines=output_lines)
    return Mark(seq=stored.seq, at=at, kind=stored.kind, summary=summary, lane=lane,
                severity=severity)


def _daemon_events(log: store.EventStore, run: state.RunState, start_ts: float, *,
                   until: int | None, live: bool) -> list[Mark]:
    """Supervisor starts and stops recorded while the run was live.

    For a run that never finished, this goes on past its last event up to the first restart
    after it: that restart should have picked the run up again, so it may be why the run
    went quiet. Later restarts add nothing and would stretch the timeline.
    """
    last = until if live else (run.last_seq if until is None else min(until, run.last_seq))
    kinds = ("supervisor.started", "supervisor.stopped")
    found = log.read(run.first_seq, until=last, run_id="", kinds=kinds, with_data=False)
    marks = []
    for stored in found:
        marks.append(_mark(stored, stored.ts - start_ts))
        if stored.seq > run.last_seq and stored.kind == "supervisor.started":
            break
    return marks


def _downtimes(daemon: list[Mark], seqs: array[int], times: array[float]) -> list[Downtime]:
    out: list[Downtime] = []
    stopped: Mark | None = None
    for mark in daemon:
        if mark.kind == "supervisor.stopped":
            stopped = mark
            continue
        if stopped is not None:
            out.append(Downtime(stopped.at, mark.at, clean=True))
        else:
            # A crash leaves no stop event: the last thing this run recorded is our best bound.
            before = bisect.bisect_left(seqs, mark.seq) - 1
            if before >= 0:
                out.append(Downtime(times[before], mark.at, clean=False))
        stopped = None
    return out


def _silences(running: list[float], chunk_at: array[float], keepalives: list[float],
              threshold: float) -> list[Silence]:
    if len(running) < 2:
        return []
    begin, end = running[0], running[1]
    ticks = sorted(keepalives)
    moments = [begin, *sorted(t for t in chunk_at if begin <= t <= end), end]
    out: list[Silence] = []
    for a, b in itertools.pairwise(moments):
        if b - a > threshold:
            count = bisect.bisect_right(ticks, b) - bisect.bisect_right(ticks, a)
            out.append(Silence(a, b, keepalives=count))
    return out


def _buckets(duration: float, count: int, chunk_at: array[float], chunk_lines: array[int],
             chunk_bytes: array[int]) -> list[Bucket]:
    width = duration / count
    lines, nbytes = [0] * count, [0] * count
    for at, n, size in zip(chunk_at, chunk_lines, chunk_bytes, strict=True):
        index = min(count - 1, max(0, int(at / width)))
        lines[index] += n
        nbytes[index] += size
    return [Bucket(i * width, (i + 1) * width, lines[i], nbytes[i]) for i in range(count)]
