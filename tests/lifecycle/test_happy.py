"""A run from request to result through the socket, the daemon and the simulated cluster."""

from __future__ import annotations

from tests.lifecycle.harness import rig


async def test_a_run_succeeds_and_its_transcript_is_exactly_what_the_pod_printed() -> None:
    async with rig() as r:
        await r.start("run-happy-1", "#scenario tool tools=2\nplease fix the bug")
        final = await r.wait_finished("run-happy-1")
        assert final["phase"] == "succeeded", final
        assert final["exitCode"] == 0
        pod = final["podName"]
        assert pod
        assert r.transcript("run-happy-1") == r.printed(pod)
        result = await r.client.result("run-happy-1")
        assert result["errorCode"] is None
        assert result["sessionId"]
        kinds = r.kinds("run-happy-1")
        for expected in ("run.requested", "guard.checked", "manifest.built", "job.created",
                         "pod.running", "log.chunk", "job.terminal", "container.exited",
                         "result.parsed", "cleanup.done", "run.finished"):
            assert expected in kinds, f"{expected} missing from {kinds}"
        assert kinds.index("container.exited") < kinds.index("cleanup.done")
        assert r.sim.get("jobs", "agents", final["jobName"]) is None  # cleaned up


async def test_health_reports_missing_permissions() -> None:
    from kubesim.access import AccessRule

    async with rig() as r:
        health = await r.client.health()
        assert health["rbac"]["ok"] is True, health
    async with rig(sim_options={"access_rules": [AccessRule(allowed=False, verb="delete", resource="jobs")]}) as r:
        health = await r.client.health()
        assert health["ok"] is False
        assert "delete jobs" in health["rbac"]["detail"], health
