"""State across simulator restarts (``state_dir``)."""

from __future__ import annotations

from pathlib import Path

import httpx
import trio

import kubesim

from .helpers import JOBS, condition, create_job, job_manifest, phase, wait_job_condition, wait_pod


async def test_objects_and_output_survive_a_restart_running_pods_do_not(tmp_path: Path) -> None:
    state = tmp_path / "state"
    async with kubesim.running(state_dir=state) as sim:
        async with httpx.AsyncClient(base_url=sim.url) as client:
            done = await create_job(client, job_manifest("done", "echo kept"))
            await wait_job_condition(sim, "done", "Complete")
            await create_job(client, job_manifest("busy", "sleep 300"))
            await wait_pod(sim, "busy", lambda pod: phase(pod) == "Running")
            sim.seed_pod({"metadata": {"name": "self"},
                          "spec": {"containers": [{"name": "c", "image": "x"}]}})
        [done_pod] = sim.pods_of_job("default", "done")
        first_truth = sim.output("default", done_pod["metadata"]["name"], "main")
        version_before = sim.store.resource_version
    async with kubesim.running(state_dir=state) as sim:
        assert sim.store.resource_version >= version_before
        restored = sim.get("jobs", "default", "done")
        assert restored is not None and restored["metadata"]["uid"] == done["metadata"]["uid"]
        assert condition(restored, "Complete")
        assert sim.output("default", done_pod["metadata"]["name"], "main") == first_truth
        busy = await wait_job_condition(sim, "busy", "Failed")
        [lost] = sim.pods_of_job("default", "busy")
        terminated = lost["status"]["containerStatuses"][0]["state"]["terminated"]
        assert (phase(lost), terminated["reason"], terminated["exitCode"]) == (
            "Failed", "ContainerStatusUnknown", 137)
        assert busy["status"]["failed"] == 1
        assert phase(sim.get("pods", "default", "self") or {}) == "Running"
        async with httpx.AsyncClient(base_url=sim.url) as client:
            fresh = await create_job(client, job_manifest("fresh", "true"))
            assert fresh["metadata"]["uid"] not in {done["metadata"]["uid"]}
            assert int(fresh["metadata"]["resourceVersion"]) > version_before
            old_watch = await client.get(JOBS.format(ns="default"), params={
                "watch": "1", "resourceVersion": str(version_before - 1)})
            assert '"code":410' in old_watch.text
            logs = await client.get(f"/api/v1/namespaces/default/pods/"
                                    f"{done_pod['metadata']['name']}/log")
            assert (logs.status_code, logs.text) == (200, "")
        with trio.fail_after(10):
            await wait_job_condition(sim, "fresh", "Complete")
