"""The official ``kubernetes`` Python client against the simulator, unchanged.

The client is blocking, so every call runs in a worker thread while the simulator serves
from the Trio loop.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import kubernetes
import pytest
import trio
from kubernetes.client import ApiException, BatchV1Api, CoreV1Api

from kubesim.sim import KubeSim

from .helpers import job_manifest, wait_job_condition, wait_pod

T = TypeVar("T")


@pytest.fixture
def api_client(kubesim_sim: KubeSim, tmp_path: Path) -> kubernetes.client.ApiClient:
    path = kubesim_sim.write_kubeconfig(tmp_path / "kubeconfig")
    return kubernetes.config.new_client_from_config(config_file=str(path))


async def blocking(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await trio.to_thread.run_sync(functools.partial(call, *args, **kwargs))


async def test_jobs_create_list_read_delete(kubesim_sim: KubeSim,
                                            api_client: kubernetes.client.ApiClient) -> None:
    batch = BatchV1Api(api_client)
    created = await blocking(batch.create_namespaced_job, "default",
                             job_manifest("py", "echo from python"))
    assert created.metadata.name == "py" and created.metadata.uid
    assert created.metadata.creation_timestamp.year >= 2024
    listed = await blocking(batch.list_namespaced_job, "default", label_selector="app=kubesim-test")
    assert [job.metadata.name for job in listed.items] == ["py"]
    none = await blocking(batch.list_namespaced_job, "default", label_selector="app=other")
    assert none.items == []
    await wait_job_condition(kubesim_sim, "py", "Complete")
    job = await blocking(batch.read_namespaced_job, "py", "default")
    assert job.status.succeeded == 1
    assert {c.type for c in job.status.conditions} == {"SuccessCriteriaMet", "Complete"}
    with pytest.raises(ApiException) as conflict:
        await blocking(batch.create_namespaced_job, "default", job_manifest("py", "true"))
    assert conflict.value.status == 409
    status = await blocking(
        batch.delete_namespaced_job, "py", "default", propagation_policy="Background"
    )
    assert status["status"] == "Success"  # this client version returns the Status as a dict
    with pytest.raises(ApiException) as missing:
        await blocking(batch.read_namespaced_job, "py", "default")
    assert missing.value.status == 404


async def test_pods_list_read_delete(kubesim_sim: KubeSim,
                                     api_client: kubernetes.client.ApiClient) -> None:
    batch, core = BatchV1Api(api_client), CoreV1Api(api_client)
    await blocking(batch.create_namespaced_job, "default", job_manifest("pods", "sleep 30"))
    await wait_pod(kubesim_sim, "pods", lambda pod: pod["status"].get("phase") == "Running")
    listed = await blocking(core.list_namespaced_pod, "default", label_selector="job-name=pods")
    [pod] = listed.items
    assert pod.status.phase == "Running"
    assert pod.status.container_statuses[0].state.running.started_at is not None
    read = await blocking(core.read_namespaced_pod, pod.metadata.name, "default")
    assert read.metadata.owner_references[0].kind == "Job"
    deleted = await blocking(core.delete_namespaced_pod, pod.metadata.name, "default",
                             grace_period_seconds=0)
    assert deleted.metadata.name == pod.metadata.name
    assert kubesim_sim.get("pods", "default", pod.metadata.name) is None


async def test_read_pod_log_follow_streams_before_the_container_ends(
    kubesim_sim: KubeSim, api_client: kubernetes.client.ApiClient
) -> None:
    batch, core = BatchV1Api(api_client), CoreV1Api(api_client)
    await blocking(batch.create_namespaced_job, "default",
                   job_manifest("follow", "for i in 1 2 3; do echo n$i; sleep 0.3; done"))
    pod = await wait_pod(kubesim_sim, "follow", lambda pod: pod["status"].get("phase") == "Running")

    def follow() -> list[tuple[float, str]]:
        response = core.read_namespaced_pod_log(
            pod["metadata"]["name"], "default", follow=True, timestamps=True, since_seconds=60,
            _preload_content=False,
        )
        seen: list[tuple[float, str]] = []
        pending = b""
        for data in response.stream(64):
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                seen.append((time.monotonic(), line.decode()))
        response.release_conn()
        return seen

    seen = await trio.to_thread.run_sync(follow)
    texts = [line.split(" ", 1)[1] for _, line in seen]
    assert texts == ["n1", "n2", "n3"]
    assert seen[2][0] - seen[0][0] >= 0.4
    truth = kubesim_sim.output("default", pod["metadata"]["name"], "main")
    assert [line.split(" ", 1)[0] for _, line in seen] == [line.timestamp for line in truth]
    plain = await blocking(core.read_namespaced_pod_log, pod["metadata"]["name"], "default")
    assert plain == "n1\nn2\nn3\n"


async def test_watch_stream_on_jobs(kubesim_sim: KubeSim,
                                    api_client: kubernetes.client.ApiClient) -> None:
    batch = BatchV1Api(api_client)
    listed = await blocking(batch.list_namespaced_job, "default")
    await blocking(batch.create_namespaced_job, "default", job_manifest("watched", "true"))

    def watch() -> list[tuple[str, str, bool]]:
        events = []
        stream = kubernetes.watch.Watch().stream(
            batch.list_namespaced_job, "default", resource_version=listed.metadata.resource_version,
            timeout_seconds=20,
        )
        for event in stream:
            job = event["object"]
            complete = any(c.type == "Complete" for c in job.status.conditions or [])
            events.append((event["type"], job.metadata.name, complete))
            if complete:
                break
        return events

    events = await trio.to_thread.run_sync(watch)
    assert events[0] == ("ADDED", "watched", False)
    assert events[-1] == ("MODIFIED", "watched", True)


async def test_self_subject_access_review(kubesim_sim: KubeSim,
                                          api_client: kubernetes.client.ApiClient) -> None:
    from kubesim.access import AccessRule

    kubesim_sim.access.rules.append(AccessRule(allowed=False, verb="delete", resource="jobs"))
    auth = kubernetes.client.AuthorizationV1Api(api_client)

    def review(verb: str) -> bool:
        body = kubernetes.client.V1SelfSubjectAccessReview(
            spec=kubernetes.client.V1SelfSubjectAccessReviewSpec(
                resource_attributes=kubernetes.client.V1ResourceAttributes(
                    namespace="default", verb=verb, group="batch", resource="jobs")))
        return bool(auth.create_self_subject_access_review(body).status.allowed)

    assert await trio.to_thread.run_sync(review, "create") is True
    assert await trio.to_thread.run_sync(review, "delete") is False
    batch = BatchV1Api(api_client)
    await blocking(batch.create_namespaced_job, "default", job_manifest("guarded", "true"))
    with pytest.raises(ApiException) as denied:
        await blocking(batch.delete_namespaced_job, "guarded", "default")
    assert denied.value.status == 403
    message = json.loads(denied.value.body)["message"]
    assert message == (
        'jobs.batch "guarded" is forbidden: User "system:serviceaccount:default:kubesim" cannot '
        'delete resource "jobs" in API group "batch" in the namespace "default"'
    )
