"""``paperclip-supervisor replay`` through the installed binary, on logs with no cluster."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from events import EventStore, fold, state_hash
from supervisor import example_log

BIN = shutil.which("paperclip-supervisor", path=str(Path(sys.executable).parent))


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    assert BIN is not None, "paperclip-supervisor is not installed in this venv"
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=60)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    path = tmp_path / "example.db"
    example_log.write_example_log(str(path), start=1_800_000_000.0)
    return path


def test_text_replay_shows_state_timeline_and_transcript(example: Path) -> None:
    out = _run("replay", str(example))
    assert out.returncode == 0, out.stderr
    assert "2 runs" in out.stdout
    assert "run run-demo-ok  agent=agent-7 phase=succeeded" in out.stdout
    assert "error=k8s_job_deleted_externally" in out.stdout
    assert '"result": "Fixed the test."' in out.stdout  # the transcript, verbatim
    assert "plain text the pod printed" in out.stdout  # non-JSON lines too
    assert "log.gap" in out.stdout and "log.reconnected" in out.stdout
    assert "no output or keepalive for 86.0s" in out.stdout


def test_json_replay_matches_the_fold_and_until_cuts_history(example: Path) -> None:
    out = _run("replay", str(example), "--format", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    with EventStore.open_readonly(example) as log:
        folded = fold(log.iter(0))
        assert doc["stateHash"] == state_hash(folded)
        assert doc["lastSeq"] == log.max_seq()
        early = fold(log.iter(0, until=10))
    assert {r["runId"]: r["phase"] for r in doc["runs"]} == {
        "run-demo-ok": "succeeded", "run-demo-cut": "failed"}
    cut = json.loads(_run("replay", str(example), "--until", "10", "--format", "json").stdout)
    assert cut["stateHash"] == state_hash(early)
    assert {r["runId"]: r["phase"] for r in cut["runs"]} == {
        "run-demo-ok": "running", "run-demo-cut": "scheduling"}


def test_one_run_only(example: Path) -> None:
    out = _run("replay", str(example), "--run", "run-demo-cut", "--no-transcript")
    assert out.returncode == 0
    assert "run-demo-ok" not in out.stdout and "run-demo-cut" in out.stdout
    assert "plain text the pod printed" not in out.stdout


@pytest.mark.parametrize("content, reason", [
    (b"", "empty file"),
    (b"\x00garbage" * 100, "not a SQLite database"),
])
def test_bad_files_exit_2_with_one_line(tmp_path: Path, content: bytes, reason: str) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(content)
    out = _run("replay", str(bad))
    assert out.returncode == 2
    assert reason in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert bad.read_bytes() == content


def test_bad_arguments_exit_2(example: Path, tmp_path: Path) -> None:
    assert _run("replay", str(example), "--until", "-3").returncode == 2
    assert _run("replay", str(example), "--format", "yaml").returncode == 2
    missing = _run("replay", str(tmp_path / "nope.db"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    unknown = _run("replay", str(example), "--run", "nope")
    assert unknown.returncode == 2 and "no run 'nope'" in unknown.stderr


def test_demo_offline_writes_and_replays(tmp_path: Path) -> None:
    out = _run("demo", "--offline", "--db", str(tmp_path / "d.db"))
    assert out.returncode == 0, out.stderr
    assert "phase=succeeded" in out.stdout


def test_html_timeline_export_and_diff_through_the_binary(example: Path, tmp_path: Path) -> None:
    page = tmp_path / "run.html"
    out = _run("replay", str(example), "--run", "run-demo-cut", "--format", "html", "-o", str(page))
    assert out.returncode == 0, out.stderr
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "https://" not in html
    exported = _run("replay", str(example), "--export", "jsonl", "--kinds", "run.*")
    assert exported.returncode == 0, exported.stderr
    kinds = [json.loads(line)["kind"] for line in exported.stdout.splitlines()]
    assert kinds and set(kinds) == {"run.requested", "run.finished"}
    diff = _run("replay", str(example), "--run", "run-demo-ok", "--diff", "run-demo-cut")
    assert diff.returncode == 0, diff.stderr
    assert "k8s_job_deleted_externally" in diff.stdout
    assert _run("replay", str(example), "--diff", "run-demo-cut").returncode == 2
