"""Every error code the lifecycle can report, reached through the real path and asserted."""

from __future__ import annotations

from typing import Any

import pytest

from kubesim import faults
from kubesim.access import AccessRule
from tests.lifecycle.harness import NAMESPACE, TERMINAL, rig


@pytest.mark.parametrize("prompt, extra, code", [
    ("#scenario unknown-session\nhi", {"sessionId": "sess-gone", "taskKey": "T"}, "session_unavailable"),
    ("#scenario llm-empty\nhi", {}, "llm_api_error"),
    ("#scenario truncated exit=137\nhi", {}, "claude_truncated"),
    ("#scenario error-result\nhi", {}, "claude_failed"),
    ("#scenario rate-limit status=rejected\nhi", {}, "claude_transient_upstream"),
    ("#scenario api-error status=401 message=\"invalid x-api-key\"\nhi", {}, "claude_auth_required"),
])
async def test_claude_failures_are_classified(prompt: str, extra: dict[str, Any], code: str) -> None:
    async with rig() as r:
        await r.start("run-code", prompt, **extra)
        final = await r.wait_finished("run-code")
        assert (final["phase"], final["errorCode"]) == ("failed", code), r.dump("run-code")
        assert r.transcript("run-code") == r.printed(final["podName"])
        result = await r.client.result("run-code")
        assert result["clearSession"] is (code == "session_unavailable")


async def test_a_refused_job_create_fails_and_leaves_nothing() -> None:
    denied = [AccessRule(allowed=False, verb="create", resource="jobs")]  # RBAC says 403
    async with rig(sim_options={"access_rules": denied}) as r:
        await r.start("run-403", "#scenario happy\nhi")
        final = await r.wait_finished("run-403")
        assert (final["phase"], final["errorCode"]) == ("failed", "k8s_job_create_failed")
        assert "job.create_failed" in r.kinds("run-403")


async def test_a_large_prompt_goes_through_a_secret_and_its_failure_has_its_code() -> None:
    big = "#scenario happy\n" + "x" * (300 * 1024)
    async with rig() as r:
        await r.start("run-big-ok", big)
        final = await r.wait_finished("run-big-ok")
        assert final["phase"] == "succeeded", r.dump("run-big-ok")
        assert "secret.created" in r.kinds("run-big-ok")
        assert r.sim.list("secrets", NAMESPACE) == []  # deleted with the run
        r.sim.inject(faults.HttpError(status=404, method="POST",
                                      path=r"/api/v1/namespaces/agents/secrets$"))
        await r.start("run-big-no", big, agent="agent-2")
        final = await r.wait_finished("run-big-no")
        assert (final["phase"], final["errorCode"]) == ("failed", "k8s_prompt_secret_create_failed")
        assert r.sim.list("jobs", NAMESPACE) == []


@pytest.mark.parametrize("first, second, code", [
    ({}, {"taskKey": "T1"}, "k8s_orphan_task_unknown"),
    ({"taskKey": "T1", "sessionId": "s-1"}, {"taskKey": "T1", "sessionId": "s-2"},
     "k8s_orphan_session_mismatch"),
    ({"taskKey": "T1"}, {"taskKey": "T2"}, "k8s_concurrent_run_blocked"),
])
async def test_live_orphans_block_with_their_code(first: dict[str, Any], second: dict[str, Any],
                                                  code: str) -> None:
    async with rig() as r:
        await r.start("run-first", "#scenario sleep seconds=20\nwork", **first)
        await r.wait_phase("run-first", "running", "finishing", *TERMINAL)
        await r.start("run-second", "#scenario happy\nhi", **second)
        final = await r.wait_finished("run-second")
        assert (final["phase"], final["errorCode"]) == ("failed", code)
        assert len(r.sim.list("jobs", NAMESPACE)) == 1  # the guard never deletes
        await r.client.cancel("run-first")
        await r.wait_finished("run-first")


async def test_reattach_disabled_blocks_any_live_orphan() -> None:
    async with rig(agent={"reattachOrphanedJobs": False}) as r:
        await r.start("run-first", "#scenario sleep seconds=20\nwork", taskKey="T1")
        await r.wait_phase("run-first", "running", "finishing", *TERMINAL)
        await r.start("run-second", "#scenario happy\nhi", taskKey="T1")
        final = await r.wait_finished("run-second")
        assert (final["phase"], final["errorCode"]) == ("failed", "k8s_concurrent_run_blocked")
        await r.client.cancel("run-first")
        await r.wait_finished("run-first")


async def test_a_new_run_for_the_same_task_adopts_the_live_job() -> None:
    # What Paperclip does after its own restart: a new run id for the same agent and task.
    async with rig() as r:
        await r.start("run-before", "#scenario chatty lines=30 pace_ms=40\nwork", taskKey="T9")
        first = await r.wait_phase("run-before", "running", "finishing", *TERMINAL)
        await r.start("run-after", "#scenario happy\nignored: the Job already runs", taskKey="T9")
        final = await r.wait_finished("run-after")
        assert final["phase"] == "succeeded", r.dump("run-after")
        assert final["jobName"] == first["jobName"] and final["podName"] == first["podName"]
        assert "run.reattached" in r.kinds("run-after")
        assert "job.created" not in r.kinds("run-after")
        assert r.transcript("run-after") == r.printed(final["podName"])
        await r.wait_finished("run-before")
