"""Realistic generated event logs for the report tests: a fixed clock and seeded randomness.

Each run is scripted on its own (:class:`RunScript`), the way the daemon would record it:
request, launch, pod phases, Claude's stream-json output in bursty chunks, keepalive ticks
through quiet stretches, reconnects, gaps, supervisor restarts and the ending. Scripts are then
merged by time into one log, so concurrent runs interleave their seqs like a real daemon's log.
Everything is deterministic (timestamps rounded to the millisecond), so renderings of these logs
can be compared with golden files.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from events import store, types

# 2027-01-15T08:00:00Z: every generated log starts here.
T0 = 1_800_000_000.0
_BATCH = 2000  # events per append transaction while writing a log

_encode = msgspec.json.encode


def rfc3339(ts: float) -> str:
    """The Kubernetes log timestamp (RFC3339Nano, UTC) for a wall-clock time."""
    moment = dt.datetime.fromtimestamp(ts, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}000Z"


# --------------------------------------------------------------------------- Claude output

_FILES = ["src/app/billing.py", "src/app/invoices.py", "src/app/models.py", "tests/test_billing.py",
          "tests/test_invoices.py", "src/app/api/routes.py", "README.md", "pyproject.toml"]
_WORDS = ("invoice total rounding currency fixture migration column customer discount tax "
          "refund handler route schema validation cache retry timeout query").split()
_REMARKS = (
    "Let me look at how invoice totals are rounded.",
    "The failing test expects 10.05 but gets 10.04: a float rounding issue.",
    "I'll switch the total to Decimal and quantize once, at the end.",
    "Running the billing tests again to confirm.",
    "Two tests still fail; both build invoices with a discount.",
    "The discount is applied after tax here, so the amount is rounded twice.",
    "Checking where the currency precision is configured.",
    "That fixed the invoice tests; now the refund handler.",
    "The migration adds a NUMERIC column, so the model needs the same precision.",
    "Looking for other places that call round() on money.",
    "The API route serialises totals as floats; I'll send strings instead.",
    "Reading the fixture to see which customers the test uses.",
    "Good, only the refund path is left.",
)
_THOUGHTS = (
    "Totals are summed as floats and rounded per line. Quantizing the sum instead changes "
    "three expected values; check the fixtures first.",
    "The refund handler reuses apply_discount, so fixing it there fixes both paths.",
)
_CODE = (
    "from decimal import Decimal, ROUND_HALF_UP", "TAX_RATE = Decimal(\"0.20\")",
    "def invoice_total(lines):", "    return sum(line.amount for line in lines)",
    "class Invoice(Base):", "    total = Column(Numeric(12, 2), nullable=False)",
    "def apply_discount(total, percent):", "    return round(total * (1 - percent), 2)",
    "    if customer.currency != invoice.currency:", "        raise CurrencyMismatch(customer)",
)


class Conversation:
    """Claude Code stream-json lines for one session, with seeded, plausible content."""

    def __init__(self, rng: random.Random, *, session_id: str, model: str = "claude-sonnet-4-6",
                 script: list[tuple[str, str]] | None = None) -> None:
        self.rng = rng
        self.session_id = session_id
        self.model = model
        self.turns = 0
        self.tool_calls = 0
        # A fixed opening sequence of (tool, argument) calls, so two runs can share a prefix.
        self._script = list(script or [])
        self._msg = 0

    def _line(self, obj: dict[str, Any]) -> bytes:
        obj.setdefault("session_id", self.session_id)
        return _encode(obj) + b"\n"


    def _assistant(self, block: dict[str, Any]) -> bytes:
        return self._line({"type": "assistant", "message": {
            "id": f"msg_{self._msg:05d}", "type": "message", "role": "assistant",
            "model": self.model, "content": [block]}})

    def init(self) -> list[bytes]:
        return [self._line({"type": "system", "subtype": "init", "cwd": "/workspace",
                            "model": self.model, "permissionMode": "bypassPermissions",
                            "tools": ["Bash", "Read", "Edit", "Grep", "Glob", "TodoWrite"]})]

    def turn(self) -> list[bytes]:
        """One agent step: maybe some text, one tool call and its result."""
        self.turns += 1
        self._msg += 1
        lines: list[bytes] = []
        if self.rng.random() < 0.1:
            lines.append(self._assistant(
                {"type": "thinking", "thinking": self.rng.choice(_THOUGHTS)}))
        if self.rng.random() < 0.6:
            lines.append(self._assistant({"type": "text", "text": self.rng.choice(_REMARKS)}))
        name, tool_input, output, is_error = self._tool()
        self.tool_calls += 1
        tool_id = f"toolu_{self.tool_calls:06d}"
        lines.append(self._assistant(
            {"type": "tool_use", "id": tool_id, "name": name, "input": tool_input}))
        lines.append(self._line({"type": "user", "message": {"role": "user", "content": [
            {"tool_use_id": tool_id, "type": "tool_result", "content": output,
             "is_error": is_error}]}}))
        return lines

    def _tool(self) -> tuple[str, dict[str, Any], str, bool]:
        rng = self.rng
        if self._script:
            name, arg = self._script.pop(0)
        else:
            name = rng.choice(["Bash", "Bash", "Read", "Read", "Edit", "Grep", "Glob"])
            arg = ""
        if name == "Bash":
            command = arg or rng.choice(["pytest -q", "pytest -q tests/test_billing.py -x",
                                         "git status --short", "ruff check src", "git diff --stat"])
            passed, failed = rng.randint(10, 200), rng.choice([0, 0, 0, 1, 2])
            tail = f"{failed} failed, {passed} passed in {rng.uniform(0.2, 9):.2f}s"
            body = "\n".join(f"tests/test_{rng.choice(_WORDS)}.py " + "." * rng.randint(2, 30)
                             for _ in range(rng.randint(1, 6)))
            return name, {"command": command}, f"{body}\n{'=' * 10} {tail} {'=' * 10}", failed > 0
        if name == "Read":
            path = arg or rng.choice(_FILES)
            body = "\n".join(f"{n:>4}  {rng.choice(_CODE)}" for n in range(1, rng.randint(3, 12)))
            return name, {"file_path": f"/workspace/{path}"}, body, False
        if name == "Edit":
            path = arg or rng.choice(_FILES)
            return (name, {"file_path": f"/workspace/{path}", "old_string": "round(x, 2)",
                           "new_string": "quantize(x)"},
                    f"The file /workspace/{path} has been updated.", False)
        if name == "Grep":
            pattern = arg or rng.choice(_WORDS)
            hits = "\n".join(f"{rng.choice(_FILES)}:{rng.randint(1, 400)}: {pattern} = ..."
                             for _ in range(rng.randint(0, 5)))
            return name, {"pattern": pattern, "path": "src"}, hits or "No matches found", False
        return name, {"pattern": arg or "**/*.py"}, "\n".join(_FILES[:rng.randint(1, 8)]), False

    def result(self, *, error: str = "") -> list[bytes]:
        """The final result line (an error result when ``error`` is given)."""
        event: dict[str, Any] = {
            "type": "result", "subtype": "success", "is_error": bool(error),
            "num_turns": self.turns, "duration_ms": 1000 * self.turns,
            "result": error or "Fixed the rounding bug; all billing tests pass.",
            "total_cost_usd": round(0.0031 * self.turns, 6),
            "usage": {"input_tokens": 900 * self.turns, "output_tokens": 140 * self.turns,
                      "cache_read_input_tokens": 400 * self.turns}}
        if error:
            event["api_error_status"] = 429
        return [self._line(event)]


# --------------------------------------------------------------------------- one run's script


@dataclass
class RunScript:
    """One run's events, recorded against its own clock (``t``, absolute seconds)."""

    run_id: str
    t: float
    rng: random.Random
    items: list[tuple[float, types.Event, bytes | None]] = field(default_factory=list)
    job: str = ""
    pod: str = ""

    def wait(self, seconds: float) -> RunScript:
        self.t += seconds
        return self

    def emit(self, cls: type[types.Event], data: bytes | None = None, **fields: Any) -> None:
        ts = round(self.t, 3)
        event = cls(run_id=self.run_id, ts=ts, **fields) if self.run_id else cls(ts=ts, **fields)
        self.items.append((ts, event, data))

    def daemon(self, cls: type[types.Event], **fields: Any) -> None:
        """A daemon-wide event (no run id) at this script's current time."""
        ts = round(self.t, 3)
        self.items.append((ts, cls(ts=ts, **fields), None))

    def launch(self, *, agent: str, task: str, session: str, pending_for: float = 1.5,
               pending_detail: str = "phase=Pending, init/write-prompt: running") -> None:
        job = self.job = f"ac-{agent}-{self.run_id}"
        self.pod = f"{job}-x7k2p"
        self.emit(types.RunRequested, b'{"prompt": "fix the billing rounding bug"}',
                  agent_id=agent, agent_name=agent.title(), task_key=task, session_id=session,
                  prompt_bytes=34)
        self.wait(0.05).emit(types.GuardChecked, decision="proceed")
        self.wait(0.05).emit(types.ManifestBuilt, job_name=job, namespace="agents",
                             claude_args=["--output-format", "stream-json", "--verbose"])
        self.wait(0.2).emit(types.JobCreated, job_name=job, namespace="agents", uid="uid-" + job)
        self.wait(0.4).emit(types.PodPending, pod_name=self.pod, detail=pending_detail)
        self.wait(0.3).emit(types.PodScheduled, pod_name=self.pod, node_name="node-3")
        self.wait(pending_for).emit(types.PodRunning, pod_name=self.pod)

    def output(self, lines: list[bytes], *, seconds: float, max_chunk: int = 6) -> None:
        """Record ``lines`` as bursty chunks spread over about ``seconds``."""
        rng = self.rng
        i = 0
        chunks: list[list[bytes]] = []
        while i < len(lines):
            n = rng.randint(1, max_chunk)
            chunks.append(lines[i:i + n])
            i += n
        step = seconds / max(1, len(chunks))
        for chunk in chunks:
            self.wait(step * rng.uniform(0.2, 1.8))
            data = b"".join(chunk)
            self.emit(types.LogChunk, data, lines=len(chunk), nbytes=len(data),
                      cursor_time=rfc3339(self.t - 0.01), cursor_count=1,
                      first_time=rfc3339(self.t - 0.02))

    def quiet(self, seconds: float, *, keepalive_every: float = 15.0) -> None:
        """No output for ``seconds``; the daemon ticks a keepalive every ``keepalive_every``."""
        end = self.t + seconds
        silent = 0.0
        while self.t + keepalive_every < end:
            self.wait(keepalive_every)
            silent += keepalive_every
            self.emit(types.KeepaliveTicked, silent_for=silent, job_state="active")
        self.t = end

    def restart_daemon(self, *, down_for: float, clean: bool, pid: int) -> None:
        """The supervisor stops (or crashes), comes back, reattaches and reconnects."""
        if clean:
            self.daemon(types.SupervisorStopped, reason="SIGTERM")
        self.wait(down_for).daemon(types.SupervisorStarted, pid=pid, version="0.1.0",
                                   recovery={"follow": 1}, recovery_seconds=0.42)
        self.wait(0.4).emit(types.RunReattached, job_name=self.job, namespace="agents",
                            mode="follow")
        self.wait(0.3).emit(types.LogReconnected, attempt=1, reason="supervisor restart",
                            since_time=rfc3339(self.t - down_for))

    def succeed(self, conversation: Conversation) -> None:
        self.output(conversation.result(), seconds=0.5)
        self.wait(1.0).emit(types.JobTerminal, outcome="complete")
        self.wait(0.1).emit(types.ContainerExited, exit_code=0)
        self.wait(0.1).emit(types.ResultParsed, exit_code=0, session_id=conversation.session_id,
                            model=conversation.model, cost_usd=round(0.0031 * conversation.turns, 6),
                            summary="Fixed the rounding bug; all billing tests pass.")
        self.wait(0.05).emit(types.RunFinished, phase="succeeded", exit_code=0)
        self.wait(0.3).emit(types.CleanupDone, deleted=["job", "secret"])

    def fail_rate_limited(self, conversation: Conversation, *, cost: float) -> None:
        """Claude's API answers 429, Claude exits 1 and the run fails as transient."""
        self.output(conversation.result(error="API Error: 429 rate limited"), seconds=1)
        self.wait(0.8).emit(types.JobTerminal, outcome="failed", reason="BackoffLimitExceeded")
        self.wait(0.1).emit(types.ContainerExited, exit_code=1)
        self.wait(0.1).emit(types.ResultParsed, exit_code=1,
                            session_id=conversation.session_id,
                            error_code="claude_transient_upstream",
                            error_message="API Error: 429 rate limited", cost_usd=cost)
        self.wait(0.05).emit(types.RunFinished, phase="failed", exit_code=1,
                             error_code="claude_transient_upstream",
                             error_message="The model API was rate limited (HTTP 429)")
        self.wait(0.3).emit(types.CleanupDone, deleted=["job"])


def write_log(path: str, scripts: Iterable[RunScript]) -> None:
    """Merge the scripts' events by time (stable) and append them to a new log at ``path``."""
    merged = sorted(
        (item for script in scripts for item in script.items), key=lambda item: item[0])
    with store.EventStore.open(path) as log:
        for start in range(0, len(merged), _BATCH):
            log.append([(event, data) for _, event, data in merged[start:start + _BATCH]])


# --------------------------------------------------------------------------- the scenarios

AGENT, TASK = "agent-7", "BILL-42"
# The two runs of AGENT/TASK share these first tool calls, then go their own ways.
_COMMON_OPENING = [("Bash", "git status --short"), ("Read", "src/app/billing.py"),
                   ("Bash", "pytest -q tests/test_billing.py -x")]


def story_scripts(start: float = T0) -> list[RunScript]:
    """Four runs with everything the timeline marks: restarts, reconnects, gaps and faults.

    ``run-good``: succeeds after a quiet stretch, a stream reconnect and a clean daemon restart.
    ``run-flaky``: the same agent and task later; slow image pull, a daemon crash, two
    reconnects, a gap, a follower crash, then Claude is rate limited and the run fails.
    ``run-nojob``: Job creation forbidden. ``run-cancelled``: cancelled by an operator while
    running, concurrently with ``run-good``.
    """
    daemon = RunScript("", start, random.Random(0))
    daemon.emit(types.SupervisorStarted, pid=100, version="0.1.0")

    good = RunScript("run-good", start + 1.0, random.Random(1))
    chat = Conversation(good.rng, session_id="sess-good", script=_COMMON_OPENING + [
        ("Edit", "src/app/billing.py"), ("Bash", "pytest -q")])
    good.launch(agent=AGENT, task=TASK, session="sess-good")
    good.output(chat.init() + [line for _ in range(6) for line in chat.turn()], seconds=40)
    good.quiet(95)  # Claude thinks for a while: a silence with keepalive ticks
    good.output([line for _ in range(5) for line in chat.turn()], seconds=30)
    good.wait(4).emit(types.LogReconnected, attempt=1, reason="stream ended while running",
                      since_time=rfc3339(good.t - 4))
    good.output([line for _ in range(4) for line in chat.turn()], seconds=25)
    good.wait(2).restart_daemon(down_for=18, clean=True, pid=101)
    good.output([line for _ in range(6) for line in chat.turn()], seconds=35)
    good.succeed(chat)

    cancelled = RunScript("run-cancelled", start + 20.0, random.Random(2))
    chat_c = Conversation(cancelled.rng, session_id="sess-cancel")
    cancelled.launch(agent="agent-3", task="OPS-7", session="sess-cancel")
    cancelled.output(chat_c.init() + [line for _ in range(8) for line in chat_c.turn()],
                     seconds=60)
    cancelled.wait(5).emit(types.CancelRequested, reason="operator", requested_by="uid 1000")
    cancelled.wait(0.5).emit(types.JobTerminal, outcome="failed", reason="cancelled",
                             message="Job deleted on cancel")
    cancelled.wait(0.1).emit(types.RunFinished, phase="cancelled", error_code="cancelled",
                             error_message="cancelled by operator")

    nojob = RunScript("run-nojob", start + 400.0, random.Random(3))
    nojob.emit(types.RunRequested, agent_id="agent-9", task_key="OPS-8", session_id="")
    nojob.wait(0.05).emit(types.GuardChecked, decision="proceed")
    nojob.wait(0.05).emit(types.ManifestBuilt, job_name="ac-agent-9-run-nojob",
                          namespace="agents")
    nojob.wait(0.2).emit(types.JobCreateFailed, job_name="ac-agent-9-run-nojob",
                         error_code="k8s_job_create_failed", status=403,
                         message='jobs.batch is forbidden: User "system:serviceaccount:x" '
                                 "cannot create resource")
    nojob.wait(0.05).emit(types.RunFinished, phase="failed", error_code="k8s_job_create_failed",
                          error_message="Creating the Kubernetes Job failed (HTTP 403)")

    flaky = RunScript("run-flaky", start + 600.0, random.Random(4))
    chat_f = Conversation(flaky.rng, session_id="sess-flaky", script=_COMMON_OPENING + [
        ("Grep", "quantize"), ("Read", "src/app/models.py")])
    flaky.launch(agent=AGENT, task=TASK, session="sess-flaky", pending_for=14.0,
                 pending_detail="phase=Pending, main: ImagePullBackOff (back-off pulling image)")
    flaky.output(chat_f.init() + [line for _ in range(5) for line in chat_f.turn()], seconds=30)
    flaky.wait(3).emit(types.LogReconnected, attempt=1, reason="stream stalled 30s while running")
    flaky.output([line for _ in range(3) for line in chat_f.turn()], seconds=15)
    flaky.wait(2).restart_daemon(down_for=40, clean=False, pid=102)  # a crash: no stop recorded
    flaky.wait(0.2).emit(types.OutputGap, reason="log rotated before it was read",
                         from_time=rfc3339(flaky.t - 40), to_time=rfc3339(flaky.t - 2),
                         lines=None, nbytes=18_304)
    flaky.output([line for _ in range(2) for line in chat_f.turn()], seconds=10)
    flaky.wait(1).emit(types.FollowerCrashed, error="KeyError: 'cursor_time'", restarts=1)
    flaky.wait(0.5).emit(types.LogReconnected, attempt=2, reason="follower restarted")
    flaky.fail_rate_limited(chat_f, cost=0.0279)
    return [daemon, good, cancelled, nojob, flaky]


def write_story_log(path: str, *, start: float = T0) -> None:
    """The four-run story log (see :func:`story_scripts`)."""
    write_log(path, story_scripts(start))


BIG_RUN = "run-big"


def write_big_log(path: str, *, lines: int = 100_000, start: float = T0) -> None:
    """One long run with ``lines`` output lines, three reconnects, a gap and a restart."""
    daemon = RunScript("", start, random.Random(10))
    daemon.emit(types.SupervisorStarted, pid=200, version="0.1.0")
    run = RunScript(BIG_RUN, start + 1.0, random.Random(11))
    chat = Conversation(run.rng, session_id="sess-big")
    run.launch(agent="agent-1", task="MIGRATE-1", session="sess-big")
    produced: list[bytes] = chat.init()
    while len(produced) < lines - 1:
        produced.extend(chat.turn())
    body = produced[:lines - 1]
    # Six stretches of output with trouble in between.
    parts = 6
    size = len(body) // parts + 1
    for index in range(parts):
        run.output(body[index * size:(index + 1) * size], seconds=1500, max_chunk=12)
        if index in (0, 2, 4):
            run.wait(3).emit(types.LogReconnected, attempt=index + 1, reason="stream ended")
        if index == 1:
            run.quiet(240)
        if index == 3:
            run.wait(1).restart_daemon(down_for=30, clean=True, pid=201)
            run.wait(0.2).emit(types.OutputGap, reason="pod log rotated", lines=420)
    run.succeed(chat)
    write_log(path, [daemon, run])


DEMO_RUN = "run-7f3a9c"


def write_demo_log(path: str, *, start: float = T0) -> None:
    """One run with a bit of everything, for the README's screenshot.

    A slow image pull, bursts of output, Claude thinking for two minutes (keepalives tick), a
    stream reconnect, a clean supervisor restart with output lost to log rotation, a follower
    crash, and finally a rate-limited API that fails the run.
    """
    daemon = RunScript("", start, random.Random(20))
    daemon.emit(types.SupervisorStarted, pid=300, version="0.1.0")
    run = RunScript(DEMO_RUN, start + 2.0, random.Random(21))
    chat = Conversation(run.rng, session_id="sess-7f3a9c", script=_COMMON_OPENING)
    run.launch(agent=AGENT, task=TASK, session="sess-7f3a9c", pending_for=22.0,
               pending_detail="phase=Pending, main: ImagePullBackOff (back-off pulling image)")
    run.output(chat.init() + [line for _ in range(14) for line in chat.turn()], seconds=70)
    run.quiet(130)
    run.output([line for _ in range(18) for line in chat.turn()], seconds=80)
    run.wait(3).emit(types.LogReconnected, attempt=1, reason="stream ended while running",
                     since_time=rfc3339(run.t - 3))
    run.output([line for _ in range(12) for line in chat.turn()], seconds=60)
    run.wait(2).restart_daemon(down_for=25, clean=True, pid=301)
    run.wait(0.2).emit(types.OutputGap, reason="pod log rotated before it was read",
                       from_time=rfc3339(run.t - 25), to_time=rfc3339(run.t), nbytes=9_812)
    run.output([line for _ in range(16) for line in chat.turn()], seconds=70)
    run.wait(1).emit(types.FollowerCrashed, error="KeyError: 'cursor_time'", restarts=1)
    run.wait(0.5).emit(types.LogReconnected, attempt=2, reason="follower restarted")
    run.output([line for _ in range(10) for line in chat.turn()], seconds=45)
    run.fail_rate_limited(chat, cost=0.2214)
    write_log(path, [daemon, run])
