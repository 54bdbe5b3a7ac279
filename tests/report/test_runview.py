"""The run's timeline as data: phases, silences, downtime, rate buckets, marks."""

from __future__ import annotations

from pathlib import Path

import pytest

from events import EventStore, StoredEvent, types
from supervisor.report import ReportError, UnknownRun, build_run_view
from supervisor.report.runview import lane_of


def _first(log: EventStore, run_id: str, kind: str) -> StoredEvent:
    return log.read(0, run_id=run_id, kinds=(kind,), limit=1, with_data=False)[0]


def _daemon(log: EventStore, kind: str) -> list[StoredEvent]:
    return log.read(0, run_id="", kinds=(kind,), with_data=False)


def test_phase_bands_follow_the_lifecycle(story_db: Path) -> None:
    with EventStore.open_readonly(story_db) as log:
        view = build_run_view(log, "run-good")
        start = _first(log, "run-good", "run.requested").ts
        at = {kind: _first(log, "run-good", kind).ts - start
              for kind in ("job.created", "pod.running", "job.terminal", "run.finished")}
        last = log.read(0, run_id="run-good", with_data=False)[-1].ts - start
    # Both sides are "event ts minus the run's first ts": exactly equal floats.
    assert [(b.phase, b.start, b.end) for b in view.bands] == [
        ("pending", 0.0, at["job.created"]),
        ("scheduling", at["job.created"], at["pod.running"]),
        ("running", at["pod.running"], at["job.terminal"]),
        ("finishing", at["job.terminal"], at["run.finished"]),
        ("succeeded", at["run.finished"], last),
    ]
    assert view.start_ts == start and not view.live


def test_a_run_that_never_got_a_job_goes_from_pending_to_failed(story_db: Path) -> None:
    with EventStore.open_readonly(story_db) as log:
        view = build_run_view(log, "run-nojob")
    assert [b.phase for b in view.bands] == ["pending", "failed"]
    assert {m.kind for m in view.marks} == {"job.create_failed", "run.finished"}
    assert view.silences == [] and view.first_output is None


def test_silences_are_output_gaps_longer_than_the_threshold(story_db: Path) -> None:
    with EventStore.open_readonly(story_db) as log:
        start = _first(log, "run-good", "run.requested").ts
        chunks = [s.ts - start for s in log.read(0, run_id="run-good", kinds=("log.chunk",),
                                                 with_data=False)]
        ticks = [s.ts - start for s in log.read(0, run_id="run-good",
                                                kinds=("keepalive.ticked",), with_data=False)]
        view = build_run_view(log, "run-good")
        stricter = build_run_view(log, "run-good", silence_seconds=20)
        lenient = build_run_view(log, "run-good", silence_seconds=600)
    long_gaps = [(a, b) for a, b in zip(chunks, chunks[1:], strict=False) if b - a > 60]
    assert len(long_gaps) == 1  # the generator's 95 s of thinking
    [silence] = view.silences
    assert (silence.start, silence.end) == pytest.approx(long_gaps[0])
    assert silence.keepalives == len(ticks) == 6
    assert len(stricter.silences) > 1 and lenient.silences == []


def test_restarts_show_on_the_runs_they_interrupted(story_db: Path) -> None:
    with EventStore.open_readonly(story_db) as log:
        good, flaky = build_run_view(log, "run-good"), build_run_view(log, "run-flaky")
        cancelled = build_run_view(log, "run-cancelled")
        stopped = _daemon(log, "supervisor.stopped")[0]
        started = _daemon(log, "supervisor.started")
        before_crash = log.read(0, until=started[2].seq, run_id="run-flaky",
                                with_data=False)[-1]
    assert good.restarts == 1 and flaky.restarts == 1 and cancelled.restarts == 0
    [clean] = good.downtimes
    assert clean.clean
    assert (clean.start, clean.end) == pytest.approx(
        (stopped.ts - good.start_ts, started[1].ts - good.start_ts))
    [crash] = flaky.downtimes  # no stop recorded: from the run's last event before the start
    assert not crash.clean
    assert (crash.start, crash.end) == pytest.approx(
        (before_crash.ts - flaky.start_ts, started[2].ts - flaky.start_ts))


def test_rate_buckets_account_for_every_line(story_db: Path, big_db: Path) -> None:
    for path, run_id, lines in ((story_db, "run-good", None), (big_db, "run-big", 100_000)):
        with EventStore.open_readonly(path) as log:
            view = build_run_view(log, run_id, buckets=240)
        assert len(view.buckets) == 240
        assert sum(b.lines for b in view.buckets) == view.run.output_lines
        assert sum(b.nbytes for b in view.buckets) == view.run.output_bytes
        if lines is not None:
            assert view.run.output_lines == lines


def test_a_live_run_shows_daemon_events_after_its_last_event(story_db: Path) -> None:
    with EventStore.open_readonly(story_db) as log:
        stopped = _daemon(log, "supervisor.stopped")[0]
        view = build_run_view(log, "run-good", until=stopped.seq)
    assert view.live and view.bands[-1].phase == "running"
    assert view.marks[-1].kind == "supervisor.stopped"
    assert view.duration == pytest.approx(stopped.ts - view.start_ts)


def test_an_abandoned_run_ends_at_the_first_restart_after_it(tmp_path: Path) -> None:
    path = tmp_path / "abandoned.db"
    with EventStore.open(path) as log:
        log.append([(types.RunRequested(run_id="r", ts=10.0, agent_id="a"), None),
                    (types.JobCreated(run_id="r", ts=11.0, job_name="j", namespace="n"), None),
                    (types.SupervisorStopped(ts=20.0), None),
                    (types.SupervisorStarted(ts=30.0), None),  # never reattached "r"
                    (types.SupervisorStarted(ts=9000.0), None)])
        view = build_run_view(log, "r")
    assert view.live
    assert [m.kind for m in view.marks] == ["supervisor.stopped", "supervisor.started"]
    assert view.duration == 20.0 and view.restarts == 1
    assert [(d.start, d.end, d.clean) for d in view.downtimes] == [(10.0, 20.0, True)]


def test_unknown_run_and_bad_settings_are_clear_errors(story_db: Path) -> None:
    with EventStore.open_readonly(story_db) as log:
        with pytest.raises(UnknownRun, match="no run 'nope' in .*events.db"):
            build_run_view(log, "nope")
        with pytest.raises(ReportError, match="silence threshold must be > 0"):
            build_run_view(log, "run-good", silence_seconds=0)
        with pytest.raises(ReportError, match="at least 1 bucket"):
            build_run_view(log, "run-good", buckets=0)


@pytest.mark.parametrize("event, placed", [
    (types.LogReconnected(attempt=1), ("reconnect", "warn")),
    (types.OutputGap(reason="rotated"), ("gap", "error")),
    (types.SupervisorStarted(), ("restart", "warn")),
    (types.SupervisorStopped(), ("restart", "info")),
    (types.PodFailed(reason="Evicted"), ("fault", "error")),
    (types.JobCreateFailed(job_name="j", error_code="e", message="m"), ("fault", "error")),
    (types.FollowerCrashed(error="KeyError"), ("fault", "error")),
    (types.PodPending(detail="main: CrashLoopBackOff"), ("fault", "warn")),
    (types.PodPending(detail="init/write-prompt: running"), None),
    (types.ContainerExited(exit_code=137), ("fault", "error")),
    (types.ContainerExited(exit_code=0), None),
    (types.ResultParsed(error_code="claude_failed"), ("fault", "error")),
    (types.ResultParsed(), None),
    (types.LivenessRefreshed(job_state="gone"), ("fault", "warn")),
    (types.LivenessRefreshed(job_state="active"), None),
    (types.CancelRequested(), ("control", "info")),
    (types.JobTerminal(outcome="complete"), ("control", "info")),
    (types.JobTerminal(outcome="deadline"), ("control", "error")),
    (types.RunFinished(phase="failed", error_code="timeout"), ("control", "error")),
    (types.RunFinished(phase="succeeded"), None),
    (types.LogChunk(), None),
])
def test_which_events_get_a_mark(event: types.Event, placed: tuple[str, str] | None) -> None:
    assert lane_of(StoredEvent(seq=1, v=1, event=event)) == placed
