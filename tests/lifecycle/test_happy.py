"""A run from request to result through the socket, the daemon and the simulated cluster."""

from __future__ import annotations

import trio

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


async def test_without_a_private_root_nothing_lands_on_the_host() -> None:
    # kubesim's path-mapping mode (no mount namespace): the Job sets HOME=/paperclip with no
    # volume there; the pod must still not create /paperclip on the machine running the tests.
    root_dir = trio.Path("/paperclip")
    existed = await root_dir.exists()
    async with rig(sim_options={"isolation": "pathmap"}) as r:
        await r.start("run-pathmap", "#scenario happy\nhi")
        final = await r.wait_finished("run-pathmap")
        assert final["phase"] == "succeeded", r.dump("run-pathmap")
    assert await root_dir.exists() == existed


async def test_a_run_outliving_the_simulators_idle_threads_is_not_killed() -> None:
    # Regression: containers were started with PR_SET_PDEATHSIG from Trio worker threads,
    # which Trio retires after 10 s idle; every pod older than that died with exit 137.
    async with rig() as r:
        await r.start("run-12s", "#scenario sleep seconds=12\nwait")
        final = await r.wait_finished("run-12s", limit=60)
        assert (final["phase"], final["exitCode"]) == ("succeeded", 0), r.dump("run-12s")
