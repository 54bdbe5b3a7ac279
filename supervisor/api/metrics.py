"""Prometheus text exposition (format 0.0.4) of the daemon's counters and gauges.

Everything is computed on request from the fold, the writer's counters and the open streams:
there is no metrics state of its own to keep in step.
"""

from __future__ import annotations

from collections.abc import Iterable

from events import state
from supervisor.api.context import ApiContext

PREFIX = "paperclip_supervisor_"


def _family(name: str, kind: str, help_text: str,
            samples: Iterable[tuple[str, float]]) -> list[str]:
    lines = [f"# HELP {PREFIX}{name} {help_text}", f"# TYPE {PREFIX}{name} {kind}"]
    for labels, value in samples:
        number = repr(float(value)) if isinstance(value, float) else str(value)
        lines.append(f"{PREFIX}{name}{labels} {number}")
    return lines


def render(ctx: ApiContext) -> str:
    """All metric families, newline-terminated."""
    sup = ctx.supervisor
    folded = sup.state
    stats = sup.statistics()
    by_phase = {phase: 0 for phase in state.PHASES}
    for run in folded.runs.values():
        by_phase[run.phase] = by_phase.get(run.phase, 0) + 1
    streams = ctx.streams.open_streams()
    lags = [stream.lag(folded) for stream in streams]
    lines: list[str] = []
    lines += _family("runs", "gauge", "Runs in the event log by phase.",
                     ((f'{{phase="{phase}"}}', count) for phase, count in by_phase.items()))
    lines += _family("active_runs", "gauge", "Runs with a live task in this daemon.",
                     [("", stats["active_runs"])])
    lines += _family("events_appended_total", "counter",
                     "Events appended to the log by this process.",
                     [("", stats["events_appended"])])
    lines += _family("last_seq", "gauge", "The newest seq in the event log.",
                     [("", folded.last_seq)])
    lines += _family("append_seconds", "summary",
                     "Time spent committing appends (one observation per group commit).",
                     [("_sum", float(stats["append_seconds_total"])), ("_count", stats["commits"])])
    lines += _family("log_reconnects_total", "counter",
                     "Pod-log streams reopened after they ended or stalled (from the log).",
                     [("", stats["reconnects"])])
    lines += _family("log_gaps_total", "counter",
                     "Stretches of output that could not be recovered (from the log).",
                     [("", stats["gaps"])])
    lines += _family("api_streams_open", "gauge", "NDJSON event streams being served.",
                     [("", len(streams))])
    lines += _family("api_streams_served_total", "counter", "NDJSON event streams opened.",
                     [("", ctx.streams.served)])
    lines += _family("api_follow_lag_events", "gauge",
                     "Largest number of events an open stream has yet to send.",
                     [("", max(lags, default=0))])
    lines += _family("api_requests_total", "counter", "HTTP requests handled.",
                     [("", ctx.requests_total)])
    return "\n".join(lines) + "\n"
