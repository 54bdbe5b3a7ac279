"""Property tests: the fold is a pure function of the log, whatever the log holds."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings

from events import EventStore, codec, fold, state_hash, types
from tests.events.strategies import event_lists

_settings = settings(max_examples=60, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


def _in_memory(items: list[tuple[types.Event, bytes | None]]) -> list[codec.StoredEvent]:
    return [codec.StoredEvent(seq=i + 1, v=types.SCHEMA_VERSION, event=ev, data=data)
            for i, (ev, data) in enumerate(items)]


@_settings
@given(items=event_lists)
def test_fold_of_stored_events_equals_fold_of_events(tmp_path: Path, items) -> None:
    path = tmp_path / f"{abs(hash(str(items)))}.db"
    with EventStore.open(path) as log:
        log.append(items)
        stored = log.read(0)
        assert [s.event for s in stored] == [ev for ev, _ in items]
        assert [s.data for s in stored] == [data for _, data in items]
        from_disk = fold(log.iter(0, with_data=False))
    expected = fold(_in_memory(items))
    assert from_disk == expected
    assert state_hash(from_disk) == state_hash(expected)


@_settings
@given(items=event_lists)
def test_hash_is_stable_across_two_replays(items) -> None:
    first, second = fold(_in_memory(items)), fold(_in_memory(items))
    assert first == second
    assert state_hash(first) == state_hash(second)


@_settings
@given(items=event_lists)
def test_until_n_equals_folding_the_first_n(tmp_path: Path, items) -> None:
    path = tmp_path / f"{abs(hash(str(items)))}.db"
    with EventStore.open(path) as log:
        log.append(items)
        for n in range(0, len(items) + 1, max(1, len(items) // 5)):
            via_until = fold(log.iter(0, until=n, with_data=False))
            assert via_until == fold(_in_memory(items[:n]))


def test_terminal_phase_is_final() -> None:
    evs = [
        types.RunRequested(run_id="r", ts=1.0, agent_id="a"),
        types.RunFinished(run_id="r", ts=2.0, phase="cancelled", error_code="cancelled"),
        types.PodRunning(run_id="r", ts=3.0, pod_name="p"),
        types.RunFinished(run_id="r", ts=4.0, phase="succeeded"),
    ]
    run = fold(_in_memory([(e, None) for e in evs])).runs["r"]
    assert (run.phase, run.error_code) == ("cancelled", "cancelled")


def test_phases_follow_the_run() -> None:
    seen = []
    steps = [
        types.RunRequested(run_id="r", ts=1.0, agent_id="a"),
        types.JobCreated(run_id="r", ts=2.0, job_name="j", namespace="n"),
        types.PodRunning(run_id="r", ts=3.0, pod_name="p"),
        types.LogChunk(run_id="r", ts=4.0, lines=2, nbytes=10, cursor_time="t", cursor_count=1),
        types.JobTerminal(run_id="r", ts=5.0, outcome="complete"),
        types.RunFinished(run_id="r", ts=6.0, phase="succeeded", exit_code=0),
    ]
    for i in range(1, len(steps) + 1):
        seen.append(fold(_in_memory([(e, None) for e in steps[:i]])).runs["r"].phase)
    assert seen == ["pending", "scheduling", "running", "running", "finishing", "succeeded"]
    final = fold(_in_memory([(e, None) for e in steps])).runs["r"]
    assert (final.output_lines, final.output_bytes, final.cursor.time, final.exit_code) == (
        2, 10, "t", 0)
