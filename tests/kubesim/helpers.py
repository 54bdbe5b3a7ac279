"""Manifests and small waits shared by the simulator's tests."""

from __future__ import annotations

from typing import Any

import httpx
import kubernetes_validate
import trio

from kubesim.sim import KubeSim

Obj = dict[str, Any]

JOBS = "/apis/batch/v1/namespaces/{ns}/jobs"
PODS = "/api/v1/namespaces/{ns}/pods"


def job_manifest(
    name: str,
    script: str,
    *,
    backoff_limit: int = 0,
    init_script: str | None = None,
    extra_spec: Obj | None = None,
    container: Obj | None = None,
    pod_spec: Obj | None = None,
    validate: bool = True,
) -> Obj:
    """A batch/v1 Job running ``sh -c script`` (validated against the 1.37 schema)."""
    main: Obj = {"name": "main", "image": "busybox:1.36", "command": ["sh", "-c", script]}
    main.update(container or {})
    spec: Obj = {"restartPolicy": "Never", "containers": [main]}
    if init_script is not None:
        spec["initContainers"] = [
            {"name": "init", "image": "busybox:1.36", "command": ["sh", "-c", init_script]}
        ]
    spec.update(pod_spec or {})
    job: Obj = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "labels": {"app": "kubesim-test"}},
        "spec": {"backoffLimit": backoff_limit, "template": {"spec": spec}},
    }
    job["spec"].update(extra_spec or {})
    if validate:
        kubernetes_validate.validate(job, "1.37.0", strict=True)
    return job


async def create_job(client: httpx.AsyncClient, job: Obj, namespace: str = "default") -> Obj:
    """POST a Job and return the created object."""
    response = await client.post(JOBS.format(ns=namespace), json=job)
    assert response.status_code == 201, response.text
    created: Obj = response.json()
    return created


def condition(job: Obj | None, kind: str) -> Obj | None:
    """A True condition of a Job, if present."""
    for item in ((job or {}).get("status") or {}).get("conditions") or []:
        if item["type"] == kind and item["status"] == "True":
            return dict(item)
    return None


async def wait_job_condition(sim: KubeSim, name: str, kind: str, namespace: str = "default",
                             within: float = 20) -> Obj:
    """Wait until a Job has a True condition of ``kind``; return the Job."""
    with trio.fail_after(within):
        result = await sim.wait_for(
            lambda: (job if condition(job := sim.get("jobs", namespace, name), kind) else None)
        )
    assert isinstance(result, dict)
    return result


async def wait_pod(sim: KubeSim, job: str, predicate: Any, namespace: str = "default",
                   within: float = 20) -> Obj:
    """Wait until a pod of ``job`` satisfies ``predicate``; return it."""

    def check() -> Obj | None:
        for pod in sim.pods_of_job(namespace, job):
            if predicate(pod):
                return pod
        return None

    with trio.fail_after(within):
        result = await sim.wait_for(check)
    assert isinstance(result, dict)
    return result


def phase(pod: Obj) -> str:
    """A pod's phase."""
    return str((pod.get("status") or {}).get("phase", ""))


def container_state(pod: Obj, name: str = "main") -> Obj:
    """The state dict of one container status."""
    status = pod.get("status") or {}
    for entry in [*status.get("initContainerStatuses", []), *status.get("containerStatuses", [])]:
        if entry["name"] == name:
            return dict(entry)
    raise KeyError(name)
