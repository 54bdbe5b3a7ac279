"""``diff_runs``: where two runs of the same agent and task diverged."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from events import EventStore
from supervisor.report import UnknownRun, diff_runs, render_diff_text
from tests.report import golden


def test_good_and_flaky_runs_golden(story_db: Path) -> None:
    with EventStore.open_readonly(story_db) as log:
        report = diff_runs(log, "run-good", "run-flaky")
    golden.check("diff_good_flaky.txt", render_diff_text(report))


def test_first_divergences_are_found(story_db: Path) -> None:
    with EventStore.open_readonly(story_db) as log:
        report = diff_runs(log, "run-good", "run-flaky")
    assert not report.identical
    assert report.notes[:2] == ["same agent: agent-7", "same task: BILL-42"]
    # The generator gives both runs the same three opening tool calls.
    calls = report.tool_calls
    assert (calls.first, calls.a_item, calls.b_item) == (
        3, "Edit: /workspace/src/app/billing.py", "Grep: quantize in src")
    assert (report.lifecycle.a_item, report.lifecycle.b_item) == (
        "pod.pending", "pod.pending ImagePullBackOff")
    outcome = {row.name: (row.a, row.b) for row in report.outcome}
    assert outcome["phase"] == ("succeeded", "failed")
    assert outcome["error code"] == ("-", "claude_transient_upstream")
    numbers = {row.name: row for row in report.numbers}
    assert (numbers["to running"].a, numbers["to running"].b) == ("+2.5s", "+15.0s")
    assert numbers["gaps"].delta == "+1" and numbers["supervisor restarts"].same
    doc = msgspec.json.decode(msgspec.json.encode(report))  # JSON-able for --format json
    assert doc["toolCalls"]["first"] == 3 and doc["phases"][0]["aAt"] == 0.0


def test_a_run_compared_with_itself_is_identical(story_db: Path) -> None:
    with EventStore.open_readonly(story_db) as log:
        report = diff_runs(log, "run-flaky", "run-flaky")
    assert report.identical
    assert all(row.same for row in report.outcome + report.numbers + report.tools)
    text = render_diff_text(report)
    assert "same path and outcome" in text and "≠" not in text
    assert text.count("  identical") == 2


def test_runs_of_different_agents_are_compared_with_a_note(story_db: Path) -> None:
    with EventStore.open_readonly(story_db) as log:
        report = diff_runs(log, "run-good", "run-nojob")
    assert "different agents: agent-7 and agent-9 (compared anyway)" in report.notes
    assert report.tool_calls.b_count == 0 and report.tool_calls.b_item == "(ends)"


def test_an_unfinished_run_is_noted(story_db: Path) -> None:
    with EventStore.open_readonly(story_db) as log:
        until = log.read(0, run_id="run-flaky", kinds=("log.gap",))[0].seq
        report = diff_runs(log, "run-good", "run-flaky", until=until)
    assert "run run-flaky has not finished (phase running)" in report.notes


def test_an_unknown_run_is_a_clear_error(story_db: Path) -> None:
    with EventStore.open_readonly(story_db) as log, pytest.raises(UnknownRun, match="'run-x'"):
        diff_runs(log, "run-good", "run-x")
