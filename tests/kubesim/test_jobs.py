"""The Job controller: pods, status and conditions, retries, deadlines, TTL, deletion."""

from __future__ import annotations

import json

import httpx
import trio
import trio.testing

from kubesim.sim import KubeSim

from .helpers import (
    JOBS,
    PODS,
    condition,
    container_state,
    create_job,
    job_manifest,
    phase,
    wait_job_condition,
    wait_pod,
)


async def test_job_runs_a_pod_to_completion(kubesim_sim: KubeSim, client: httpx.AsyncClient) -> None:
    created = await create_job(client, job_manifest("ok", "echo hello"))
    uid = created["metadata"]["uid"]
    assert created["spec"]["selector"] == {
        "matchLabels": {"batch.kubernetes.io/controller-uid": uid}
    }
    job = await wait_job_condition(kubesim_sim, "ok", "Complete")
    status = job["status"]
    assert status["succeeded"] == 1 and "failed" not in status and "active" not in status
    assert condition(job, "SuccessCriteriaMet")["reason"] == "CompletionsReached"
    assert status["completionTime"] >= status["startTime"]
    [pod] = kubesim_sim.pods_of_job("default", "ok")
    labels = pod["metadata"]["labels"]
    assert labels["job-name"] == labels["batch.kubernetes.io/job-name"] == "ok"
    assert labels["controller-uid"] == labels["batch.kubernetes.io/controller-uid"] == uid
    assert pod["metadata"]["name"].startswith("ok-")
    [owner] = pod["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["uid"], owner["controller"]) == ("Job", uid, True)
    assert phase(pod) == "Succeeded"
    terminated = container_state(pod)["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (0, "Completed")


async def test_failed_pod_fails_the_job_with_backoff_limit_exceeded(
    kubesim_sim: KubeSim, client: httpx.AsyncClient
) -> None:
    await create_job(client, job_manifest("bad", "echo oops >&2; exit 3"))
    job = await wait_job_condition(kubesim_sim, "bad", "Failed")
    assert condition(job, "Failed")["reason"] == "BackoffLimitExceeded"
    assert condition(job, "FailureTarget")["reason"] == "BackoffLimitExceeded"
    assert job["status"]["failed"] == 1
    assert "completionTime" not in job["status"]
    [pod] = kubesim_sim.pods_of_job("default", "bad")
    terminated = container_state(pod)["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (3, "Error")
    assert phase(pod) == "Failed"


async def test_backoff_limit_creates_a_new_pod_per_failure(
    kubesim_sim: KubeSim, client: httpx.AsyncClient, slow_autojump_clock: trio.testing.MockClock
) -> None:
    await create_job(client, job_manifest("retry", "exit 1", backoff_limit=2))
    job = await wait_job_condition(kubesim_sim, "retry", "Failed", within=600)
    assert job["status"]["failed"] == 3
    assert len(kubesim_sim.pods_of_job("default", "retry")) == 3
    # The controller waits 10 s, then 20 s before replacement pods (virtual time here).
    assert trio.current_time() >= 30


async def test_duplicate_name_is_409_already_exists(client: httpx.AsyncClient) -> None:
    await create_job(client, job_manifest("dup", "true"))
    response = await client.post(JOBS.format(ns="default"), json=job_manifest("dup", "true"))
    assert response.status_code == 409
    body = response.json()
    assert (body["kind"], body["reason"], body["code"]) == ("Status", "AlreadyExists", 409)
    assert body["message"] == 'jobs.batch "dup" already exists'


async def test_generate_name_gets_a_random_suffix(client: httpx.AsyncClient) -> None:
    job = job_manifest("x", "true")
    del job["metadata"]["name"]
    job["metadata"]["generateName"] = "gen-"
    created = await create_job(client, job)
    name = created["metadata"]["name"]
    assert name.startswith("gen-") and len(name) == len("gen-") + 5


async def test_invalid_job_is_422_naming_the_field(client: httpx.AsyncClient) -> None:
    job = job_manifest("inv", "true", validate=False)
    job["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    del job["spec"]["template"]["spec"]["containers"][0]["image"]
    response = await client.post(JOBS.format(ns="default"), json=job)
    assert response.status_code == 422
    body = response.json()
    assert body["reason"] == "Invalid"
    fields = {cause["field"] for cause in body["details"]["causes"]}
    assert fields == {"spec.template.spec.restartPolicy", "spec.template.spec.containers[0].image"}


async def test_resource_versions_increase_and_uids_are_unique(client: httpx.AsyncClient) -> None:
    first = await create_job(client, job_manifest("rv-a", "true"))
    second = await create_job(client, job_manifest("rv-b", "true"))
    assert int(second["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    assert first["metadata"]["uid"] != second["metadata"]["uid"]


async def test_active_deadline_kills_the_pod_and_fails_the_job(
    kubesim_sim: KubeSim, client: httpx.AsyncClient
) -> None:
    await create_job(client, job_manifest(
        "slow", "trap 'echo got TERM; exit 143' TERM; while true; do sleep 0.05; done",
        extra_spec={"activeDeadlineSeconds": 1},
    ))
    pod = await wait_pod(kubesim_sim, "slow", lambda pod: phase(pod) == "Running")
    job = await wait_job_condition(kubesim_sim, "slow", "Failed")
    assert condition(job, "Failed")["reason"] == "DeadlineExceeded"
    assert condition(job, "Failed")["message"] == "Job was active longer than specified deadline"
    with trio.fail_after(10):  # the controller deleted the pod (it may linger as it stops)
        await kubesim_sim.wait_for(lambda: kubesim_sim.pods_of_job("default", "slow") == [])
    output = kubesim_sim.output("default", pod["metadata"]["name"], "main")
    assert [line.data for line in output] == [b"got TERM"]


async def test_ttl_after_finished_deletes_job_pods_and_owned_secrets(
    kubesim_sim: KubeSim, client: httpx.AsyncClient, slow_autojump_clock: trio.testing.MockClock
) -> None:
    created = await create_job(client, job_manifest(
        "ttl", "true", extra_spec={"ttlSecondsAfterFinished": 100}))
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "ttl-prompt"},
              "stringData": {"prompt.txt": "hi"}}
    assert (await client.post("/api/v1/namespaces/default/secrets", json=secret)).status_code == 201
    patch = [{"op": "add", "path": "/metadata/ownerReferences", "value": [{
        "apiVersion": "batch/v1", "kind": "Job", "name": "ttl",
        "uid": created["metadata"]["uid"], "blockOwnerDeletion": False}]}]
    response = await client.patch(
        "/api/v1/namespaces/default/secrets/ttl-prompt", content=json.dumps(patch),
        headers={"content-type": "application/json-patch+json"},
    )
    assert response.status_code == 200, response.text
    await wait_job_condition(kubesim_sim, "ttl", "Complete", within=600)
    finished_at = trio.current_time()
    with trio.fail_after(600):
        await kubesim_sim.wait_for(lambda: kubesim_sim.get("jobs", "default", "ttl") is None
                                   and not kubesim_sim.list("pods", "default")
                                   and kubesim_sim.get("secrets", "default", "ttl-prompt") is None)
    assert trio.current_time() - finished_at >= 100


async def test_background_delete_removes_job_then_pods(
    kubesim_sim: KubeSim, client: httpx.AsyncClient
) -> None:
    await create_job(client, job_manifest("bg", "sleep 30"))
    await wait_pod(kubesim_sim, "bg", lambda pod: phase(pod) == "Running")
    response = await client.request(
        "DELETE", JOBS.format(ns="default") + "/bg",
        json={"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"},
    )
    assert response.status_code == 200
    assert response.json()["status"] == "Success"
    assert kubesim_sim.get("jobs", "default", "bg") is None
    with trio.fail_after(20):
        await kubesim_sim.wait_for(lambda: not kubesim_sim.list("pods", "default"))


async def test_foreground_delete_shows_deletion_timestamp_until_pods_are_gone(
    kubesim_sim: KubeSim, client: httpx.AsyncClient
) -> None:
    await create_job(client, job_manifest("fg", "trap 'sleep 0.3; exit 0' TERM; sleep 30 & wait"))
    await wait_pod(kubesim_sim, "fg", lambda pod: phase(pod) == "Running")
    response = await client.delete(JOBS.format(ns="default") + "/fg",
                                   params={"propagationPolicy": "Foreground"})
    assert response.status_code == 202
    job = response.json()
    assert job["metadata"]["deletionTimestamp"]
    assert job["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert kubesim_sim.get("jobs", "default", "fg") is not None
    with trio.fail_after(20):
        await kubesim_sim.wait_for(lambda: kubesim_sim.get("jobs", "default", "fg") is None)
    assert kubesim_sim.list("pods", "default") == []


async def test_orphan_delete_keeps_pods_without_owner(
    kubesim_sim: KubeSim, client: httpx.AsyncClient
) -> None:
    await create_job(client, job_manifest("orph", "sleep 30"))
    pod = await wait_pod(kubesim_sim, "orph", lambda pod: phase(pod) == "Running")
    response = await client.delete(JOBS.format(ns="default") + "/orph")  # the batch/v1 default
    assert response.status_code == 200
    assert kubesim_sim.get("jobs", "default", "orph") is None
    left = kubesim_sim.get("pods", "default", pod["metadata"]["name"])
    assert left is not None and "ownerReferences" not in left["metadata"]
    assert phase(left) == "Running"


async def test_pod_deleted_behind_the_jobs_back_fails_the_job(
    kubesim_sim: KubeSim, client: httpx.AsyncClient
) -> None:
    await create_job(client, job_manifest("gone", "sleep 30"))
    pod = await wait_pod(kubesim_sim, "gone", lambda pod: phase(pod) == "Running")
    response = await client.delete(PODS.format(ns="default") + "/" + pod["metadata"]["name"],
                                   params={"gracePeriodSeconds": "0"})
    assert response.status_code == 200
    job = await wait_job_condition(kubesim_sim, "gone", "Failed")
    assert condition(job, "Failed")["reason"] == "BackoffLimitExceeded"


async def test_background_delete_garbage_collects_secrets_the_job_owns(
    kubesim_sim: KubeSim, client: httpx.AsyncClient
) -> None:
    created = await create_job(client, job_manifest("owner", "sleep 30"))
    secret = {"metadata": {"name": "owner-prompt", "ownerReferences": [{
        "apiVersion": "batch/v1", "kind": "Job", "name": "owner",
        "uid": created["metadata"]["uid"]}]}, "stringData": {"prompt.txt": "x"}}
    assert (await client.post("/api/v1/namespaces/default/secrets", json=secret)).status_code == 201
    await client.delete(JOBS.format(ns="default") + "/owner",
                        params={"propagationPolicy": "Background"})
    with trio.fail_after(20):
        await kubesim_sim.wait_for(
            lambda: kubesim_sim.get("secrets", "default", "owner-prompt") is None
            and not kubesim_sim.list("pods", "default"))


async def test_json_patch_relabels_a_job(client: httpx.AsyncClient) -> None:
    job = job_manifest("relabel", "sleep 30")
    job["metadata"]["labels"]["paperclip.io/run-id"] = "run-1"
    created = await create_job(client, job)
    patch = [
        {"op": "test", "path": "/metadata/labels/paperclip.io~1run-id", "value": "run-1"},
        {"op": "replace", "path": "/metadata/labels/paperclip.io~1run-id", "value": "run-2"},
        {"op": "add", "path": "/metadata/labels/paperclip.io~1session-id", "value": "s-9"},
    ]
    response = await client.patch(
        JOBS.format(ns="default") + "/relabel", content=json.dumps(patch),
        headers={"content-type": "application/json-patch+json"},
    )
    assert response.status_code == 200, response.text
    labels = response.json()["metadata"]["labels"]
    assert labels["paperclip.io/run-id"] == "run-2" and labels["paperclip.io/session-id"] == "s-9"
    assert int(response.json()["metadata"]["resourceVersion"]) > int(
        created["metadata"]["resourceVersion"])
    failing = await client.patch(
        JOBS.format(ns="default") + "/relabel", content=json.dumps(patch[:1]),
        headers={"content-type": "application/json-patch+json"},
    )
    assert failing.status_code == 422
    immutable = await client.patch(
        JOBS.format(ns="default") + "/relabel",
        content=json.dumps([{"op": "replace", "path": "/spec/completions", "value": 3}]),
        headers={"content-type": "application/json-patch+json"},
    )
    assert immutable.status_code == 422
    assert immutable.json()["details"]["causes"][0]["field"] == "spec.completions"


async def test_requests_are_counted_per_class(kubesim_sim: KubeSim,
                                              client: httpx.AsyncClient) -> None:
    await create_job(client, job_manifest("counted", "true"))
    await client.get(JOBS.format(ns="default"))
    await client.get(JOBS.format(ns="default") + "/counted")
    await client.get(PODS.format(ns="default"), params={"labelSelector": "job-name=counted"})
    await client.get("/api/v1")
    counts = (await client.get("/_kubesim/requests")).json()["counts"]
    assert counts == {"create jobs": 1, "list jobs": 1, "get jobs": 1, "list pods": 1,
                      "get discovery": 1}
    assert kubesim_sim.recorder.count() == 5
    [listing] = kubesim_sim.recorder.requests("list pods")
    assert listing.query == "labelSelector=job-name%3Dcounted" and listing.status == 200
