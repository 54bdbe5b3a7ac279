"""The command line's client commands through the installed binary, against a daemon subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api import fake_runs
from tests.api.daemon_process import BIN, DaemonProcess


@pytest.fixture(scope="module")
def daemon() -> Iterator[DaemonProcess]:
    directory = Path(tempfile.mkdtemp(prefix="pcs-cli-"))
    try:
        with DaemonProcess(directory) as process:
            process.wait_ready()
            yield process
            assert process.terminate() == 0
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def cli(daemon: DaemonProcess | None, *args: str, stdin: str = "",
        socket_path: str | None = None) -> subprocess.CompletedProcess[str]:
    assert BIN is not None
    where = socket_path or (daemon.socket_path if daemon else "/nonexistent/api.sock")
    command = [BIN, *args[:2], "--socket", where, *args[2:]] if args[0] == "runs" else \
        [BIN, args[0], "--socket", where, *args[1:]]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=60)


def wait_phase(daemon: DaemonProcess, run_id: str, *phases: str) -> dict[str, object]:
    deadline = time.monotonic() + 20
    while True:
        out = cli(daemon, "runs", "show", run_id)
        assert out.returncode == 0, out.stderr
        run: dict[str, object] = json.loads(out.stdout)
        if run["phase"] in phases:
            return run
        assert time.monotonic() < deadline, f"{run_id} stayed {run['phase']}"
        time.sleep(0.02)


def test_start_is_idempotent_and_conflicts_exit_5(daemon: DaemonProcess) -> None:
    first = cli(daemon, "runs", "start", "--agent", "agent-7", "--run-id", "cli-1",
                "--task-key", "T-1", stdin="say hi\n")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "cli-1" and "started" in first.stderr
    again = cli(daemon, "runs", "start", "--agent", "agent-7", "--run-id", "cli-1",
                "--task-key", "T-1", stdin="say hi\n")
    assert again.returncode == 0 and "already exists" in again.stderr
    other = cli(daemon, "runs", "start", "--agent", "agent-7", "--run-id", "cli-1",
                stdin="something else\n")
    assert other.returncode == 5 and "run_conflict" in other.stderr
    run = wait_phase(daemon, "cli-1", "succeeded")
    assert run["taskKey"] == "T-1"


def test_list_show_logs_and_result(daemon: DaemonProcess, tmp_path: Path) -> None:
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("say hi")
    out = cli(daemon, "runs", "start", "--agent", "agent-9", "--run-id", "cli-2",
              "--prompt-file", str(prompt), "--env", "MODE=ci")
    assert out.returncode == 0, out.stderr
    wait_phase(daemon, "cli-2", "succeeded")
    table = cli(daemon, "runs", "list", "--agent", "agent-9")
    assert table.returncode == 0
    header, row = table.stdout.splitlines()
    assert header.split() == ["RUN", "AGENT", "PHASE", "CREATED", "JOB", "ERROR"]
    assert row.split()[:3] == ["cli-2", "agent-9", "succeeded"]
    as_json = json.loads(cli(daemon, "runs", "list", "--json", "--phase", "succeeded").stdout)
    assert "cli-2" in [r["runId"] for r in as_json["runs"]]
    raw = cli(daemon, "runs", "logs", "cli-2")
    assert raw.returncode == 0 and raw.stdout == fake_runs.TRANSCRIPT.read_text()
    pretty = cli(daemon, "runs", "logs", "cli-2", "--pretty")
    assert pretty.returncode == 0 and pretty.stdout.strip()
    assert not any(line.startswith('{"type"') for line in pretty.stdout.splitlines())
    assert "hi" in pretty.stdout
    result = cli(daemon, "runs", "result", "cli-2")
    assert result.returncode == 0 and json.loads(result.stdout)["summary"] == "hi"


def test_follow_shows_progress_and_exits_1_when_cancelled(daemon: DaemonProcess) -> None:
    assert BIN is not None
    out = cli(daemon, "runs", "start", "--agent", "agent-7", "--run-id", "cli-hold",
              stdin="hold tick")
    assert out.returncode == 0, out.stderr
    follower = subprocess.Popen(
        [BIN, "runs", "logs", "--socket", daemon.socket_path, "cli-hold", "-f", "--progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_phase(daemon, "cli-hold", "running")
        early = cli(daemon, "runs", "result", "cli-hold")
        assert early.returncode == 5 and "run_not_terminal" in early.stderr
        cancel = cli(daemon, "runs", "cancel", "cli-hold", "--reason", "test")
        assert cancel.returncode == 0 and "cancel recorded" in cancel.stdout
        stdout, stderr = follower.communicate(timeout=30)
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait()
    assert follower.returncode == 1
    assert stdout == "".join(line.decode() for line in fake_runs.transcript_lines()[:-1])
    assert "still running" in stderr and "finished: cancelled (cancelled)" in stderr


def test_start_follow_prints_output_then_the_result(daemon: DaemonProcess) -> None:
    out = cli(daemon, "runs", "start", "--agent", "agent-7", "--run-id", "cli-f", "-f",
              stdin="say hi")
    assert out.returncode == 0, out.stderr
    transcript = fake_runs.TRANSCRIPT.read_text()
    assert out.stdout.startswith(transcript)
    assert json.loads(out.stdout[len(transcript):])["phase"] == "succeeded"
    failed = cli(daemon, "runs", "start", "--agent", "agent-7", "--run-id", "cli-ff", "-f",
                 stdin="fail")
    assert failed.returncode == 1


def test_events_prune_and_health(daemon: DaemonProcess) -> None:
    assert cli(daemon, "runs", "start", "--agent", "a", "--run-id", "cli-e",
               stdin="hi").returncode == 0
    wait_phase(daemon, "cli-e", "succeeded")
    events = cli(daemon, "events", "--kinds", "run.finished")
    finished = [json.loads(line) for line in events.stdout.splitlines()]
    assert events.returncode == 0 and "cli-e" in [e["runId"] for e in finished]
    after = cli(daemon, "events", "--after", str(finished[-1]["seq"]), "--kinds", "run.finished")
    assert after.returncode == 0 and after.stdout == ""
    dry = cli(daemon, "prune", "--finished-before", "1h", "--dry-run")
    assert dry.returncode == 0 and dry.stdout.startswith("would remove 0 run(s)")
    bad = cli(daemon, "prune", "--finished-before", "soon")
    assert bad.returncode == 2 and "expected a duration" in bad.stderr
    health = cli(daemon, "health")
    assert health.returncode == 0 and json.loads(health.stdout)["ok"] is True


def test_exit_codes_for_errors(daemon: DaemonProcess) -> None:
    missing = cli(daemon, "runs", "show", "no-such-run")
    assert missing.returncode == 4 and "run_not_found" in missing.stderr
    gone = cli(None, "health")
    assert gone.returncode == 3 and "cannot reach the daemon" in gone.stderr
    invalid = cli(daemon, "runs", "start", "--agent", "!!!", stdin="hi")
    assert invalid.returncode == 2 and "agent.id" in invalid.stderr
    bad_env = cli(daemon, "runs", "start", "--agent", "a", "--env", "NOVALUE", stdin="hi")
    assert bad_env.returncode == 2 and "expected NAME=VALUE" in bad_env.stderr


def test_serve_refuses_bad_config_with_one_line(tmp_path: Path) -> None:
    assert BIN is not None
    bad = tmp_path / "bad.toml"
    bad.write_text('log_source = "files"\n')
    out = subprocess.run([BIN, "serve", "--config", str(bad)], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2 and "did you mean 'file'" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    needs_dir = subprocess.run([BIN, "serve", "--log-source", "file"], capture_output=True,
                               text=True, timeout=60)
    assert needs_dir.returncode == 2 and "shared_volume_host_dir" in needs_dir.stderr
