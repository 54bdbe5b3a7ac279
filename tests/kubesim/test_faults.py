"""Every fault, observed through a real HTTP client (httpx)."""

from __future__ import annotations

import httpx
import msgspec
import pytest
import trio
import trio.testing

import kubesim
from kubesim import faults
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


def log_url(pod: str) -> str:
    return PODS.format(ns="default") + f"/{pod}/log"


async def finished_pod(sim: KubeSim, client: httpx.AsyncClient, name: str, script: str) -> str:
    await create_job(client, job_manifest(name, script))
    await wait_job_condition(sim, name, "Complete")
    return str(sim.pods_of_job("default", name)[0]["metadata"]["name"])


async def running_pod(sim: KubeSim, client: httpx.AsyncClient, name: str, script: str) -> str:
    await create_job(client, job_manifest(name, script))
    pod = await wait_pod(sim, name, lambda pod: phase(pod) == "Running")
    return str(pod["metadata"]["name"])


# -- HTTP faults ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "reason"), [
    (404, "NotFound"), (409, "Conflict"), (410, "Expired"), (500, "InternalError"),
    (503, "ServiceUnavailable"),
])
async def test_http_error_for_the_next_n_calls(kubesim_sim: KubeSim, client: httpx.AsyncClient,
                                               status: int, reason: str) -> None:
    kubesim_sim.inject(kubesim.HttpError(status=status, path=r"/jobs$", method="GET", times=2))
    for _ in range(2):
        response = await client.get(JOBS.format(ns="default"))
        body = response.json()
        assert (response.status_code, body["kind"], body["reason"], body["code"]) == (
            status, "Status", reason, status)
    assert (await client.get(JOBS.format(ns="default"))).status_code == 200
    assert (await client.get("/api/v1/namespaces/default/pods")).status_code == 200


async def test_429_carries_retry_after(kubesim_sim: KubeSim, client: httpx.AsyncClient) -> None:
    kubesim_sim.inject(kubesim.HttpError(status=429, path="/pods", retry_after=7, times=1))
    response = await client.get(PODS.format(ns="default"))
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json()["details"] == {"retryAfterSeconds": 7}


async def test_http_error_for_a_time_window(kubesim_sim: KubeSim, client: httpx.AsyncClient,
                                            autojump_clock: trio.testing.MockClock) -> None:
    kubesim_sim.inject(kubesim.HttpError(status=503, path="/jobs", for_seconds=30))
    assert (await client.get(JOBS.format(ns="default"))).status_code == 503
    await trio.sleep(29)
    assert (await client.get(JOBS.format(ns="default"))).status_code == 503
    await trio.sleep(2)
    assert (await client.get(JOBS.format(ns="default"))).status_code == 200


async def test_latency_delays_matching_requests(kubesim_sim: KubeSim, client: httpx.AsyncClient,
                                                autojump_clock: trio.testing.MockClock) -> None:
    kubesim_sim.inject(kubesim.Latency(seconds=5, path="/jobs", times=1))
    start = trio.current_time()
    assert (await client.get(JOBS.format(ns="default"))).status_code == 200
    assert trio.current_time() - start == pytest.approx(5, abs=0.01)
    start = trio.current_time()
    await client.get(JOBS.format(ns="default"))
    assert trio.current_time() - start < 0.01


async def test_faults_with_a_probability_are_repeatable_given_the_seed() -> None:
    async def pattern(seed: int) -> list[int]:
        async with kubesim.running(seed=seed) as sim:
            sim.inject(kubesim.HttpError(status=500, path="/secrets", probability=0.5))
            async with httpx.AsyncClient(base_url=sim.url) as client:
                return [(await client.get("/api/v1/namespaces/default/secrets")).status_code
                        for _ in range(24)]

    first, again, other = await pattern(7), await pattern(7), await pattern(8)
    assert first == again
    assert first != other
    assert {200, 500} == set(first)


# -- log stream faults ----------------------------------------------------------------------------

async def test_log_cut_after_bytes_drops_the_connection(kubesim_sim: KubeSim,
                                                        client: httpx.AsyncClient) -> None:
    pod = await finished_pod(kubesim_sim, client, "cut", "seq 1 100")
    kubesim_sim.inject(kubesim.LogCut(pod="cut-.*", after_bytes=10, times=1))
    received = b""
    with pytest.raises(httpx.RemoteProtocolError):
        async with client.stream("GET", log_url(pod)) as response:
            async for data in response.aiter_raw():
                received += data
    assert received == b"1\n2\n3\n4\n5\n"
    assert (await client.get(log_url(pod))).text.count("\n") == 100  # budget spent


async def test_log_cut_with_clean_end_looks_like_the_container_ended(
    kubesim_sim: KubeSim, client: httpx.AsyncClient
) -> None:
    pod = await finished_pod(kubesim_sim, client, "clean", "seq 1 100")
    kubesim_sim.inject(kubesim.LogCut(pod="clean-.*", after_bytes=4, clean_end=True))
    assert (await client.get(log_url(pod))).content == b"1\n2\n"


async def test_log_cut_after_seconds_on_a_live_follow(kubesim_sim: KubeSim,
                                                      client: httpx.AsyncClient) -> None:
    pod = await running_pod(kubesim_sim, client, "timed", "while true; do echo tick; sleep 0.1; done")
    kubesim_sim.inject(kubesim.LogCut(pod="timed-.*", after_seconds=0.5))
    start = trio.current_time()
    lines: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError):
        async with client.stream("GET", log_url(pod), params={"follow": "true"}) as response:
            async for line in response.aiter_lines():
                lines.append(line)
    assert 0.5 <= trio.current_time() - start < 3
    assert 2 <= len(lines) and set(lines) <= {"tick"}


async def test_log_hang_sends_nothing_and_never_closes(kubesim_sim: KubeSim,
                                                       client: httpx.AsyncClient) -> None:
    pod = await finished_pod(kubesim_sim, client, "hang", "seq 1 100")
    kubesim_sim.inject(kubesim.LogHang(pod="hang-.*", after_bytes=4, times=1))
    received = b""
    with pytest.raises(httpx.ReadTimeout):
        async with client.stream("GET", log_url(pod), timeout=1.0) as response:
            assert response.status_code == 200
            async for data in response.aiter_raw():
                received += data
    assert received == b"1\n2\n"


async def test_rotate_now_leaves_logs_with_only_the_new_file(kubesim_sim: KubeSim,
                                                             client: httpx.AsyncClient) -> None:
    pod = await running_pod(kubesim_sim, client, "rot",
                            "echo before; sleep 0.5; echo after; sleep 30")
    with trio.fail_after(10):
        await kubesim_sim.wait_for(lambda: kubesim_sim.output("default", pod, "main"))
    response = await client.post("/_kubesim/faults", json={
        "kind": "rotate_logs", "namespace": "default", "pod": pod})
    assert response.json() == {"applied": True}
    with trio.fail_after(10):
        await kubesim_sim.wait_for(lambda: len(kubesim_sim.output("default", pod, "main")) == 2)
    assert (await client.get(log_url(pod))).text == "after\n"
    assert [line.data for line in kubesim_sim.output("default", pod, "main")] == [
        b"before", b"after"]


# -- pod faults ---------------------------------------------------------------------------------

async def test_evicted_pod_is_failed_with_reason_evicted_and_its_process_killed(
    kubesim_sim: KubeSim, client: httpx.AsyncClient
) -> None:
    pod = await running_pod(kubesim_sim, client, "evict", "echo up; sleep 300")
    kubesim_sim.evict_pod("default", pod)
    job = await wait_job_condition(kubesim_sim, "evict", "Failed")
    assert condition(job, "Failed")["reason"] == "BackoffLimitExceeded"
    evicted = kubesim_sim.get("pods", "default", pod)
    assert evicted is not None
    assert (phase(evicted), evicted["status"]["reason"]) == ("Failed", "Evicted")
    assert evicted["status"]["message"].startswith("The node was low on resource")
    assert container_state(evicted)["state"]["terminated"]["exitCode"] == 143
    disruption = [c for c in evicted["status"]["conditions"] if c["type"] == "DisruptionTarget"]
    assert disruption[0]["reason"] == "TerminationByKubelet"


async def test_job_deleted_behind_the_back_is_not_a_recorded_request(
    kubesim_sim: KubeSim, client: httpx.AsyncClient
) -> None:
    await running_pod(kubesim_sim, client, "sneaky", "sleep 300")
    response = await client.post("/_kubesim/faults", json={
        "kind": "delete_job", "namespace": "default", "job": "sneaky"})
    assert response.status_code == 200
    assert (await client.get(JOBS.format(ns="default") + "/sneaky")).status_code == 404
    assert kubesim_sim.recorder.count("delete jobs") == 0
    with trio.fail_after(10):
        await kubesim_sim.wait_for(lambda: not kubesim_sim.list("pods", "default"))


async def test_unschedulable_pod_stays_pending(kubesim_sim: KubeSim, client: httpx.AsyncClient
                                               ) -> None:
    kubesim_sim.inject(kubesim.Unschedulable(job="stuck"))
    await create_job(client, job_manifest("stuck", "true"))
    pod = await wait_pod(kubesim_sim, "stuck", lambda pod: pod["status"].get("conditions"))
    [scheduled] = pod["status"]["conditions"]
    assert (scheduled["type"], scheduled["status"], scheduled["reason"]) == (
        "PodScheduled", "False", "Unschedulable")
    assert scheduled["message"].startswith("0/1 nodes are available")
    assert phase(pod) == "Pending" and "nodeName" not in pod["spec"]
    response = await client.get(log_url(pod["metadata"]["name"]))
    assert response.json()["message"] == f"pod {pod['metadata']['name']} does not have a host assigned"


async def test_image_pull_failure_shows_err_image_pull_then_back_off(
    kubesim_sim: KubeSim, client: httpx.AsyncClient, autojump_clock: trio.testing.MockClock
) -> None:
    kubesim_sim.inject(kubesim.ImagePullFailure(image="busybox:1.36", container="init"))
    await create_job(client, job_manifest("pull", "true", init_script="true"))

    def reason(pod: dict[str, object]) -> str:
        return str(container_state(pod, "init")["state"].get("waiting", {}).get("reason"))

    pod = await wait_pod(kubesim_sim, "pull", lambda pod: reason(pod) == "ErrImagePull")
    assert container_state(pod, "init")["state"]["waiting"]["message"].startswith(
        'failed to pull and unpack image "busybox:1.36"')
    response = await client.get(log_url(pod["metadata"]["name"]), params={"container": "init"})
    assert response.json()["message"].endswith("is waiting to start: trying and failing to pull image")
    pod = await wait_pod(kubesim_sim, "pull", lambda pod: reason(pod) == "ImagePullBackOff")
    assert container_state(pod, "init")["state"]["waiting"]["message"] == (
        'Back-off pulling image "busybox:1.36"')
    assert phase(pod) == "Pending"


async def test_crash_loop_on_the_init_container(kubesim_sim: KubeSim, client: httpx.AsyncClient,
                                                autojump_clock: trio.testing.MockClock) -> None:
    kubesim_sim.inject(kubesim.CrashLoop(job="crashy", container="init", exit_code=2))
    await create_job(client, job_manifest("crashy", "true", init_script="true"))
    pod = await wait_pod(kubesim_sim, "crashy",
                         lambda pod: container_state(pod, "init")["restartCount"] >= 3, within=300)
    assert trio.current_time() >= 10 + 20  # back-off doubles: 10 s, then 20 s
    init = container_state(pod, "init")
    assert init["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert init["state"]["waiting"]["message"].startswith("back-off ")
    assert init["lastState"]["terminated"]["exitCode"] == 2
    assert phase(pod) == "Pending"
    assert kubesim_sim.output("default", pod["metadata"]["name"], "init") == []


async def test_exit_early_with_a_code(kubesim_sim: KubeSim, client: httpx.AsyncClient) -> None:
    kubesim_sim.inject(kubesim.ExitEarly(job="early", container="main", exit_code=42,
                                         after_seconds=0.3))
    await create_job(client, job_manifest("early", "echo started; sleep 300"))
    start = trio.current_time()
    job = await wait_job_condition(kubesim_sim, "early", "Failed")
    assert 0.3 <= trio.current_time() - start < 5
    [pod] = kubesim_sim.pods_of_job("default", "early")
    assert container_state(pod)["state"]["terminated"]["exitCode"] == 42
    assert job["status"]["failed"] == 1


async def test_exit_early_before_starting(kubesim_sim: KubeSim, client: httpx.AsyncClient) -> None:
    kubesim_sim.inject(kubesim.ExitEarly(job="never", exit_code=3))
    await create_job(client, job_manifest("never", "echo should not run"))
    await wait_job_condition(kubesim_sim, "never", "Failed")
    [pod] = kubesim_sim.pods_of_job("default", "never")
    assert container_state(pod)["state"]["terminated"]["exitCode"] == 3
    assert kubesim_sim.output("default", pod["metadata"]["name"], "main") == []


# -- the admin endpoint ---------------------------------------------------------------------------

async def test_faults_endpoint_adds_lists_and_clears(kubesim_sim: KubeSim,
                                                     client: httpx.AsyncClient) -> None:
    added = await client.post("/_kubesim/faults", json={
        "kind": "http_error", "status": 500, "path": "/secrets", "times": 3})
    assert added.status_code == 201
    fault_id = added.json()["id"]
    assert (await client.get("/api/v1/namespaces/default/secrets")).status_code == 500
    listing = (await client.get("/_kubesim/faults")).json()["faults"]
    expected = msgspec.json.decode(faults.encode(
        kubesim.HttpError(status=500, path="/secrets", times=3)))
    assert listing == [{"id": fault_id, "times_left": 2, "fault": expected}]
    assert expected["kind"] == "http_error"
    assert (await client.delete(f"/_kubesim/faults/{fault_id}")).status_code == 200
    assert (await client.get("/api/v1/namespaces/default/secrets")).status_code == 200
    await client.post("/_kubesim/faults", json={"kind": "latency", "seconds": 0.01})
    assert (await client.delete("/_kubesim/faults")).json() == {"cleared": True}
    assert (await client.get("/_kubesim/faults")).json() == {"faults": []}


@pytest.mark.parametrize(("body", "problem"), [
    ({"kind": "http_error", "status": 502}, "status must be one of"),
    ({"kind": "log_cut"}, "a log cut needs after_bytes or after_seconds"),
    ({"kind": "latency", "seconds": 1, "colour": "red"}, "unknown field `colour`"),
    ({"kind": "teleport"}, "Invalid value 'teleport'"),
    ({"kind": "log_hang", "pod": "("}, "pod: invalid regular expression"),
])
async def test_bad_faults_are_rejected_naming_the_problem(
    client: httpx.AsyncClient, body: dict[str, object], problem: str
) -> None:
    response = await client.post("/_kubesim/faults", json=body)
    assert response.status_code == 400
    assert problem in response.json()["message"]


async def test_admin_requests_are_never_faulted(kubesim_sim: KubeSim,
                                                client: httpx.AsyncClient) -> None:
    kubesim_sim.inject(kubesim.HttpError(status=503))
    assert (await client.get("/_kubesim/healthz")).text == "ok"
    assert (await client.get("/version")).status_code == 503
