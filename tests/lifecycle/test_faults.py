"""The lifecycle against a misbehaving cluster: every fault, every error code, exact output."""

from __future__ import annotations

from typing import Any

import pytest

from events import EventStore
from kubesim import faults
from tests.lifecycle.harness import NAMESPACE, TERMINAL, Rig, rig

# ~6 KB a second (lines of ~600 bytes every 100 ms): a stream resumed from the floor of the
# cursor's second re-sends up to a second of old lines before new ones, so a byte cut must be
# larger than a second of output for the follower to make progress.
CHATTY = "#scenario chatty lines=40 pace_ms=100\nwork"


def _assert_exact(r: Rig, run_id: str, final: dict[str, Any]) -> None:
    assert final["podName"], final
    assert r.transcript(run_id) == r.printed(final["podName"])


@pytest.mark.parametrize("cut", [
    faults.LogCut(after_bytes=9_000),
    faults.LogCut(after_bytes=8_000, after_bytes_max=15_000, clean_end=True),
    faults.LogCut(after_seconds=0.15),
])
async def test_cut_log_streams_lose_and_repeat_nothing(cut: faults.LogCut) -> None:
    async with rig() as r:
        r.sim.inject(cut)
        await r.start("run-cut", CHATTY)
        final = await r.wait_finished("run-cut")
        assert final["phase"] == "succeeded", final
        _assert_exact(r, "run-cut", final)
        assert r.sup.state.runs["run-cut"].reconnects > 0


async def test_lines_sharing_one_timestamp_survive_cuts_exactly() -> None:
    # Every line of a whole second shares one timestamp: only the same-timestamp count
    # in the cursor can tell which of them were already recorded.
    async with rig(sim_options={"timestamp_resolution_ns": 1_000_000_000}) as r:
        r.sim.inject(faults.LogCut(after_bytes=8_000, after_bytes_max=15_000))
        await r.start("run-same-ts", CHATTY)
        final = await r.wait_finished("run-same-ts")
        assert final["phase"] == "succeeded", final
        _assert_exact(r, "run-same-ts", final)


async def test_a_hung_stream_cannot_hold_a_finished_run() -> None:
    async with rig() as r:
        r.sim.inject(faults.LogHang(after_bytes=400, times=1))
        await r.start("run-hang", "#scenario chatty lines=50 pace_ms=5\nwork")
        final = await r.wait_finished("run-hang")
        assert final["phase"] == "succeeded", final
        _assert_exact(r, "run-hang", final)


async def test_api_error_bursts_during_guard_and_create_are_retried() -> None:
    async with rig() as r:
        r.sim.inject(faults.HttpError(status=503, path=r"/apis/batch/v1/namespaces/agents/jobs$",
                                      method="GET", times=2))
        r.sim.inject(faults.HttpError(status=500, path=r"/apis/batch/v1/namespaces/agents/jobs$",
                                      method="POST", times=1))
        r.sim.inject(faults.HttpError(status=429, path=r"/pods/.*/log", times=1, retry_after=0))
        await r.start("run-5xx", "#scenario happy\nhi")
        final = await r.wait_finished("run-5xx")
        assert final["phase"] == "succeeded", final
        _assert_exact(r, "run-5xx", final)
        assert r.kinds("run-5xx").count("job.created") == 1
        jobs = [j for j in r.sim.list("jobs", NAMESPACE)]
        assert jobs == []  # the one Job was created once and cleaned up


async def test_the_guard_fails_closed_when_it_cannot_list() -> None:
    async with rig() as r:
        r.sim.inject(faults.HttpError(status=503, path=r"/apis/batch/v1/namespaces/agents/jobs$",
                                      method="GET", times=50))
        await r.start("run-closed", "#scenario happy\nhi")
        final = await r.wait_finished("run-closed")
        assert (final["phase"], final["errorCode"]) == ("failed", "k8s_concurrency_guard_unreachable")
        assert r.sim.list("jobs", NAMESPACE) == []


async def test_a_job_deleted_behind_our_back_is_lost_with_forensics() -> None:
    async with rig() as r:
        await r.start("run-gone", "#scenario sleep seconds=30\nwait")
        running = await r.wait_phase("run-gone", "running", *TERMINAL)
        r.sim.delete_job(NAMESPACE, running["jobName"])
        final = await r.wait_finished("run-gone")
        assert (final["phase"], final["errorCode"]) == ("lost", "k8s_job_deleted_externally")
        result = await r.client.result("run-gone")
        assert "detected_via=" in (result["errorMessage"] or "")


async def test_an_evicted_pod_fails_the_run() -> None:
    async with rig() as r:
        await r.start("run-evict", "#scenario sleep seconds=30\nwait")
        running = await r.wait_phase("run-evict", "running", *TERMINAL)
        r.sim.evict_pod(NAMESPACE, running["podName"])
        final = await r.wait_finished("run-evict")
        assert final["phase"] == "failed", final
        assert final["errorCode"]
        assert "Evicted" in (final["errorMessage"] or "") or "evict" in (final["errorMessage"] or "").lower()


async def test_the_job_deadline_is_a_timeout() -> None:
    async with rig() as r:
        await r.start("run-deadline", "#scenario sleep seconds=60\nwait", timeoutSec=1, graceSec=30)
        final = await r.wait_finished("run-deadline")
        assert (final["phase"], final["errorCode"]) == ("failed", "timeout")
        assert (await r.client.result("run-deadline"))["timedOut"] is True


@pytest.mark.parametrize("fault, words", [
    (faults.ImagePullFailure(container="claude"), "image pull"),
    (faults.Unschedulable(), "unschedulable"),
])
async def test_pods_that_can_never_run_fail_fast_with_the_reason(fault: Any, words: str) -> None:
    async with rig() as r:
        r.sim.inject(fault)
        await r.start("run-stuck", "#scenario happy\nhi")
        final = await r.wait_finished("run-stuck")
        assert (final["phase"], final["errorCode"]) == ("failed", "k8s_pod_schedule_failed")
        assert words in final["errorMessage"].lower()
        assert r.sim.list("jobs", NAMESPACE) == []  # the doomed Job was removed


async def test_early_exit_after_only_the_init_line() -> None:
    async with rig() as r:
        await r.start("run-early", "#scenario exit code=3 init=1\nhi")
        final = await r.wait_finished("run-early")
        assert final["phase"] == "failed" and final["exitCode"] == 3, final
        assert final["errorCode"]
        _assert_exact(r, "run-early", final)


async def test_a_one_mebibyte_line_arrives_whole() -> None:
    async with rig() as r:
        r.sim.inject(faults.LogCut(after_bytes=200_000, times=2))
        await r.start("run-big", "#scenario big-line bytes=1048576\nhi")
        final = await r.wait_finished("run-big")
        assert final["phase"] == "succeeded", final
        _assert_exact(r, "run-big", final)
        assert any(len(line) > 1_000_000 for line in r.transcript("run-big").split(b"\n"))


async def test_output_rotated_away_while_unread_is_a_recorded_gap() -> None:
    # Small log files, one kept: while the stream hangs, the kubelet rotates the early lines
    # away. The follower must record the gap, keep everything it can still read, and never
    # pretend the transcript is whole.
    async with rig(sim_options={"log_max_bytes": 4000, "log_max_files": 1}) as r:
        r.sim.inject(faults.LogHang(after_bytes=3000, times=1))
        await r.start("run-rotated", "#scenario chatty lines=60 pace_ms=10\nwork")
        final = await r.wait_finished("run-rotated")
        run = r.sup.state.runs["run-rotated"]
        assert run.gaps >= 1, r.dump("run-rotated")
        truth = r.printed(final["podName"])
        with EventStore.open_readonly(r.settings.db_path) as log:
            events = log.read(0, run_id="run-rotated", kinds=("log.chunk", "log.gap"))
        gap_at = next(i for i, e in enumerate(events) if e.kind == "log.gap")
        head = b"".join(e.data or b"" for e in events[:gap_at])
        tail = b"".join(e.data or b"" for e in events[gap_at + 1:])
        assert head and tail and len(head) + len(tail) < len(truth)
        assert truth.startswith(head) and truth.endswith(tail), "kept output must be exact"
