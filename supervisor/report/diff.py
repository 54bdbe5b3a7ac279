"""``replay --run A --diff B``: where two runs of the same agent and task diverged.

An operator with one good and one bad run of the same task wants the first difference, not
two long logs side by side. The report compares, in this order: the outcome (phase, error
codes, exit code), timings and counts (time to each phase, output, reconnects, gaps,
restarts, silences), when each phase was entered and for how long, the lifecycle as a
sequence of steps (event kinds with the fields that decide a run's path, never names or
times) and the sequence of Claude's tool calls. Each sequence is aligned with :mod:`difflib`
and its first divergence named. The report is data (:class:`DiffReport`, JSON-able);
:func:`render_diff_text` writes it for a terminal.
"""

from __future__ import annotations

import collections
import difflib
from collections.abc import Callable, Iterable, Sequence

import msgspec

from events import codec, replay, state, store, types
from supervisor import pretty, streamjson
from supervisor.report import runview, transcript, units

# Diff lines shown per sequence; the rest is counted.
DEFAULT_MAX_LINES = 60
# Equal steps shown around each difference.
DEFAULT_CONTEXT = 2

# The fields that decide a run's path, per kind; every other field (names, ids, times, free
# text that differs run to run) is left out so that equal paths compare equal.
_STEP_FIELDS: dict[str, tuple[str, ...]] = {
    "guard.checked": ("decision",),
    "run.reattached": ("mode",),
    "pod.failed": ("reason", "exit_code"),
    "job.create_failed": ("error_code", "status"),
    "log.gap": ("reason",),
    "log.reconnected": ("reason",),
    "liveness.refreshed": ("job_state",),
    "job.terminal": ("outcome", "reason"),
    "container.exited": ("exit_code", "signal"),
    "result.parsed": ("error_code",),
    "run.finished": ("phase", "error_code"),
    "cleanup.skipped": ("reason",),
    "supervisor.stopped": ("reason",),
}
_QUIET_KINDS = frozenset({"log.chunk", "keepalive.ticked"})
_LIFECYCLE_KINDS = tuple(kind for kind in types.EVENT_CLASSES if kind not in _QUIET_KINDS)


class Row(msgspec.Struct, frozen=True, rename="camel"):
    """One compared value; ``delta`` is B minus A for numbers."""

    name: str
    a: str
    b: str
    delta: str = ""

    @property
    def same(self) -> bool:
        return self.a == self.b


class PhaseRow(msgspec.Struct, frozen=True, rename="camel"):
    """When each run entered ``phase`` and how long it stayed (None: never)."""

    phase: str
    a_at: float | None
    a_for: float | None
    b_at: float | None
    b_for: float | None


class SequenceDiff(msgspec.Struct, frozen=True, rename="camel"):
    """Two aligned sequences; ``first`` is the index where they part (None: equal)."""

    what: str
    a_count: int
    b_count: int
    first: int | None
    a_item: str
    b_item: str
    lines: list[str]
    more_lines: int = 0


class DiffReport(msgspec.Struct, frozen=True, rename="camel"):
    a: str
    b: str
    notes: list[str]
    outcome: list[Row]
    numbers: list[Row]
    phases: list[PhaseRow]
    lifecycle: SequenceDiff
    tool_calls: SequenceDiff
    tools: list[Row]

    @property
    def identical(self) -> bool:
        """The two runs took the same path to the same outcome (timings aside)."""
        return (all(row.same for row in self.outcome) and self.lifecycle.first is None
                and self.tool_calls.first is None)


def diff_runs(
    log: store.EventStore,
    a: str,
    b: str,
    *,
    until: int | None = None,
    silence_seconds: float = replay.DEFAULT_SILENCE_SECONDS,
    context: int = DEFAULT_CONTEXT,
    max_lines: int = DEFAULT_MAX_LINES,
) -> DiffReport:
    """Compare run ``a`` with run ``b`` of the same log.

    Raises:
        UnknownRun: either run is not in the log.
    """
    view_a = runview.build_run_view(log, a, until=until, silence_seconds=silence_seconds)
    view_b = runview.build_run_view(log, b, until=until, silence_seconds=silence_seconds)
    run_a, run_b = view_a.run, view_b.run
    notes = []
    for what, left, right in (("agent", run_a.agent_id, run_b.agent_id),
                              ("task", run_a.task_key, run_b.task_key)):
        if left == right:
            notes.append(f"same {what}: {left or '-'}")
        else:
            notes.append(f"different {what}s: {left or '-'} and {right or '-'} "
                         "(compared anyway)")
    for view in (view_a, view_b):
        if view.live:
            notes.append(f"run {view.run.run_id} has not finished (phase {view.run.phase})")
    calls_a, calls_b = tool_calls(log, a, until=until), tool_calls(log, b, until=until)
    return DiffReport(
        a=a, b=b, notes=notes,
        outcome=_outcome(run_a, run_b),
        numbers=_numbers(view_a, view_b),
        phases=_phases(view_a, view_b),
        lifecycle=_sequence("lifecycle steps", lifecycle_steps(log, view_a, until=until),
                            lifecycle_steps(log, view_b, until=until), a, b,
                            context=context, max_lines=max_lines),
        tool_calls=_sequence("tool calls", calls_a, calls_b, a, b, context=context,
                             max_lines=max_lines),
        tools=_tool_counts(calls_a, calls_b),
    )


def lifecycle_steps(log: store.EventStore, view: runview.RunView, *,
                    until: int | None = None) -> list[str]:
    """The run's path as steps: each event but output and keepalives, with deciding fields."""
    steps = [(stored.seq, step_of(stored))
             for stored in log.iter(0, until=until, run_id=view.run.run_id,
                                    kinds=_LIFECYCLE_KINDS, with_data=False)]
    # Daemon events carry a pid and version that differ every time; only a stop's reason counts.
    steps += [(mark.seq, mark.kind if mark.kind == "supervisor.started"
               else f"{mark.kind} {mark.summary}".rstrip())
              for mark in view.events if mark.kind.startswith("supervisor.")]
    return [step for _, step in sorted(steps)]


def step_of(stored: codec.StoredEvent) -> str:
    """One lifecycle step: the kind and the fields that decide the run's path."""
    event = stored.event
    if isinstance(event, types.PodPending):
        trouble = runview.pod_trouble(event)
        return f"pod.pending {trouble}".rstrip()
    fields = msgspec.structs.asdict(event) if isinstance(event, types.Event) else {}
    parts = [stored.kind]
    for name in _STEP_FIELDS.get(stored.kind, ()):
        value = fields.get(name)
        if value not in (None, ""):
            parts.append(f"{name}={value}")
    return " ".join(parts)


def tool_calls(log: store.EventStore, run_id: str, *, until: int | None = None) -> list[str]:
    """Claude's tool calls in order, each as ``Name: what it did`` (the human summary)."""
    calls = []
    for _, line in transcript.output_lines(log, run_id, until=until):
        event = streamjson.decode_object(line)
        if event is None or event.get("type") != "assistant":
            continue
        message = event.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        for block in content if isinstance(content, list) else ():
            if isinstance(block, dict) and block.get("type") == "tool_use":
                name = block.get("name")
                name = name if isinstance(name, str) and name else "unknown"
                summary = pretty.summarize_tool_input(name, block.get("input"))
                calls.append(f"{name}: {summary}" if summary else name)
    return calls


# --- the comparisons ------------------------------------------------------------------


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "-" if value in (None, "") else str(value)


def _outcome(a: state.RunState, b: state.RunState) -> list[Row]:
    def result(run: state.RunState, pick: Callable[[state.RunResult], object]) -> str:
        return _text(pick(run.result)) if run.result is not None else "-"

    cost_a, cost_b = (result(run, lambda r: None if r.cost_usd is None else f"${r.cost_usd:.4f}")
                      for run in (a, b))
    return [
        Row("phase", a.phase, b.phase),
        Row("error code", _text(a.error_code), _text(b.error_code)),
        Row("exit code", _text(a.exit_code), _text(b.exit_code)),
        Row("job outcome", _text(a.job_outcome), _text(b.job_outcome)),
        Row("result error", result(a, lambda r: r.error_code),
            result(b, lambda r: r.error_code)),
        Row("model", result(a, lambda r: r.model), result(b, lambda r: r.model)),
        Row("cost", cost_a, cost_b),
        Row("cancel requested", _text(a.cancel_requested), _text(b.cancel_requested)),
        Row("error message", _text(a.error_message), _text(b.error_message)),
    ]


def _entered(view: runview.RunView, *phases: str) -> float | None:
    return next((band.start for band in view.bands if band.phase in phases), None)


def _numbers(a: runview.RunView, b: runview.RunView) -> list[Row]:
    def longest_silence(view: runview.RunView) -> float | None:
        return max((s.end - s.start for s in view.silences), default=None)

    terminal = tuple(state.TERMINAL_PHASES)
    timed = [
        ("to scheduling", _entered(a, state.SCHEDULING), _entered(b, state.SCHEDULING)),
        ("to running", _entered(a, state.RUNNING), _entered(b, state.RUNNING)),
        ("to first output", a.first_output, b.first_output),
        ("to finishing", _entered(a, state.FINISHING), _entered(b, state.FINISHING)),
        ("to terminal", _entered(a, *terminal), _entered(b, *terminal)),
    ]
    rows = [Row(name, _seconds(x), _seconds(y), _delta_seconds(x, y)) for name, x, y in timed]
    quiet_a, quiet_b = longest_silence(a), longest_silence(b)
    rows.append(Row("longest silence", _duration(quiet_a), _duration(quiet_b),
                    _delta_seconds(quiet_a, quiet_b)))
    counted = [
        ("output lines", a.run.output_lines, b.run.output_lines),
        ("output bytes", a.run.output_bytes, b.run.output_bytes),
        ("output chunks", a.chunks, b.chunks),
        ("reconnects", a.run.reconnects, b.run.reconnects),
        ("gaps", a.run.gaps, b.run.gaps),
        ("supervisor restarts", a.restarts, b.restarts),
        ("follower crashes", a.run.follower_crashes, b.run.follower_crashes),
        ("keepalive ticks", a.run.keepalives, b.run.keepalives),
        ("silences", len(a.silences), len(b.silences)),
    ]
    rows += [Row(name, str(x), str(y), "" if x == y else f"{y - x:+d}") for name, x, y in counted]
    return rows


def _seconds(value: float | None) -> str:
    return "-" if value is None else units.offset(value)


def _delta_seconds(a: float | None, b: float | None) -> str:
    if a is None or b is None or abs(b - a) < 0.05:
        return ""
    return ("+" if b > a else "-") + units.duration(abs(b - a))


def _phases(a: runview.RunView, b: runview.RunView) -> list[PhaseRow]:
    def timing(view: runview.RunView, phase: str) -> tuple[float | None, float | None]:
        band = next((band for band in view.bands if band.phase == phase), None)
        if band is None:
            return None, None
        # A terminal band lasts until cleanup, which says nothing about the run.
        return band.start, None if phase in state.TERMINAL_PHASES else band.end - band.start

    rows = []
    for phase in state.PHASES:
        (a_at, a_for), (b_at, b_for) = timing(a, phase), timing(b, phase)
        if a_at is not None or b_at is not None:
            rows.append(PhaseRow(phase, a_at, a_for, b_at, b_for))
    return rows


def _sequence(what: str, a: Sequence[str], b: Sequence[str], name_a: str, name_b: str, *,
              context: int, max_lines: int) -> SequenceDiff:
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    first = next(((i1, j1) for tag, i1, _, j1, _ in matcher.get_opcodes() if tag != "equal"),
                 None)
    lines = list(difflib.unified_diff(a, b, fromfile=f"run {name_a}", tofile=f"run {name_b}",
                                      n=context, lineterm=""))
    if first is None:
        return SequenceDiff(what, len(a), len(b), None, "", "", [])
    i, j = first
    return SequenceDiff(
        what, len(a), len(b), min(i, j),
        a[i] if i < len(a) else "(ends)", b[j] if j < len(b) else "(ends)",
        lines[:max_lines], more_lines=max(0, len(lines) - max_lines))


def _tool_counts(a: Iterable[str], b: Iterable[str]) -> list[Row]:
    count_a = collections.Counter(call.split(":", 1)[0] for call in a)
    count_b = collections.Counter(call.split(":", 1)[0] for call in b)
    return [Row(name, str(count_a[name]), str(count_b[name]),
                "" if count_a[name] == count_b[name] else f"{count_b[name] - count_a[name]:+d}")
            for name in sorted(count_a.keys() | count_b.keys())]


# --- the text form --------------------------------------------------------------------


def render_diff_text(report: DiffReport) -> str:
    """The report for a terminal: differing rows marked ``≠``, first divergences spelled out."""
    out = [f"diff of runs A={report.a} and B={report.b}"]
    out += [f"  {note}" for note in report.notes]
    verdict = ("same path and outcome" if report.identical
               else "the runs diverge (rows marked ≠ differ)")
    out.append(f"  {verdict}")
    out += _table("outcome", ("A", "B"),
                  [(r.name, (r.a, r.b), _mark(r)) for r in report.outcome])
    out += _table("timings and counts", ("A", "B", "B-A"),
                  [(r.name, (r.a, r.b, r.delta), _mark(r)) for r in report.numbers])
    out += _table("phases", ("A entered", "A for", "B entered", "B for"), [
        (p.phase, (_seconds(p.a_at), _duration(p.a_for), _seconds(p.b_at), _duration(p.b_for)),
         "") for p in report.phases])
    out += _sequence_text(report.lifecycle, "step")
    out += _sequence_text(report.tool_calls, "call")
    if report.tools:
        out += _table("tool calls by tool", ("A", "B", "B-A"),
                      [(r.name, (r.a, r.b, r.delta), _mark(r)) for r in report.tools])
    return "\n".join(out) + "\n"


def _mark(row: Row) -> str:
    return "" if row.same else "≠"


def _duration(value: float | None) -> str:
    return "-" if value is None else units.duration(value)


_CELL_MAX = 48


def _table(title: str, headers: Sequence[str],
           rows: Sequence[tuple[str, Sequence[str], str]]) -> list[str]:
    """Aligned columns: a title over the row names, one column per header, then a marker."""
    cells = [(name, [_cut(value) for value in values], marker) for name, values, marker in rows]
    name_width = max([len(name) for name, _, _ in cells] + [len(title) - 2])
    widths = [max([len(header)] + [len(values[i]) for _, values, _ in cells])
              for i, header in enumerate(headers)]
    head = "  ".join(header.ljust(width) for header, width in zip(headers, widths, strict=True))
    lines = ["", f"{title.ljust(name_width + 2)}  {head}".rstrip()]
    for name, values, marker in cells:
        body = "  ".join(value.ljust(width) for value, width in zip(values, widths, strict=True))
        lines.append(f"  {name.ljust(name_width)}  {body}  {marker}".rstrip())
    return lines


def _cut(text: str) -> str:
    return text if len(text) <= _CELL_MAX else text[:_CELL_MAX - 1] + "…"


def _sequence_text(diff: SequenceDiff, item: str) -> list[str]:
    out = ["", f"{diff.what}: A has {diff.a_count}, B has {diff.b_count}"]
    if diff.first is None:
        out.append("  identical")
        return out
    out.append(f"  first divergence at {item} {diff.first + 1}:")
    out.append(f"    A: {diff.a_item}")
    out.append(f"    B: {diff.b_item}")
    out += [f"  {line}" for line in diff.lines]
    if diff.more_lines:
        out.append(f"  … {diff.more_lines} more diff lines")
    return out
