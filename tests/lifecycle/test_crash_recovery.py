"""A bug in one run's task is recorded, the run resumes from its cursor, the daemon lives on."""

from __future__ import annotations

from typing import Any

import pytest

from supervisor.engine import follow
from tests.lifecycle.harness import rig


async def test_a_follower_crash_is_recorded_and_the_run_resumes_exactly(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real_take = follow.ApiLogFollower._take
    calls = {"n": 0}

    async def flaky_take(self: Any, raw_lines: list[bytes], fresh: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyError("cursor_time")  # a stand-in for a bug
        return await real_take(self, raw_lines, fresh)

    monkeypatch.setattr(follow.ApiLogFollower, "_take", flaky_take)
    async with rig() as r:
        await r.start("run-crash", "#scenario chatty lines=30 pace_ms=20\nwork")
        final = await r.wait_finished("run-crash")
        assert final["phase"] == "succeeded", r.dump("run-crash")
        assert r.transcript("run-crash") == r.printed(final["podName"])
        assert r.kinds("run-crash").count("follower.crashed") == 1
        assert r.sup.state.runs["run-crash"].follower_crashes == 1
        # The daemon kept serving: another run goes through.
        await r.start("run-after", "#scenario happy\nhi", agent="agent-2")
        assert (await r.wait_finished("run-after"))["phase"] == "succeeded"


async def test_a_run_that_keeps_crashing_ends_with_supervisor_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken_take(self: Any, raw_lines: list[bytes], fresh: Any) -> int:
        raise RuntimeError("always broken")

    monkeypatch.setattr(follow.ApiLogFollower, "_take", broken_take)
    async with rig() as r:
        await r.start("run-doomed", "#scenario chatty lines=5 pace_ms=10\nwork")
        final = await r.wait_finished("run-doomed")
        assert (final["phase"], final["errorCode"]) == ("failed", "supervisor_error")
        assert r.kinds("run-doomed").count("follower.crashed") == 5
