"""``GET …/pods/{name}/log`` over HTTP: options, errors, streaming, long and unfinished lines."""

from __future__ import annotations

import httpx
import trio

import kubesim
from kubesim import timefmt
from kubesim.sim import KubeSim

from .helpers import JOBS, PODS, create_job, job_manifest, phase, wait_job_condition, wait_pod


def log_path(pod: str, namespace: str = "default") -> str:
    return PODS.format(ns=namespace) + f"/{pod}/log"


async def finished_pod(sim: KubeSim, client: httpx.AsyncClient, name: str, script: str,
                       **options: object) -> str:
    await create_job(client, job_manifest(name, script, **options))  # type: ignore[arg-type]
    await wait_job_condition(sim, name, "Complete")
    [pod] = sim.pods_of_job("default", name)
    return str(pod["metadata"]["name"])


async def test_follow_streams_chunked_lines_as_they_are_printed_and_ends_on_exit(
    kubesim_sim: KubeSim, client: httpx.AsyncClient
) -> None:
    await create_job(client, job_manifest(
        "paced", "for i in 1 2 3; do echo tick $i; sleep 0.3; done"))
    pod = await wait_pod(kubesim_sim, "paced", lambda pod: phase(pod) == "Running")
    arrivals: list[tuple[float, bytes]] = []
    async with client.stream("GET", log_path(pod["metadata"]["name"]),
                             params={"follow": "true"}) as response:
        assert response.headers["transfer-encoding"] == "chunked"
        assert response.headers["content-type"] == "text/plain"
        async for line in response.aiter_lines():
            arrivals.append((trio.current_time(), line.encode()))
    assert [line for _, line in arrivals] == [b"tick 1", b"tick 2", b"tick 3"]
    assert arrivals[2][0] - arrivals[0][0] >= 0.4  # streamed, not delivered at the end


async def test_timestamps_since_tail_and_limit(kubesim_sim: KubeSim,
                                               client: httpx.AsyncClient) -> None:
    name = await finished_pod(kubesim_sim, client, "opts",
                              "for i in 1 2 3 4 5; do echo line $i; done")
    truth = kubesim_sim.output("default", name, "main")
    stamped = (await client.get(log_path(name), params={"timestamps": "true"})).text
    assert stamped == "".join(f"{line.timestamp} {line.data.decode()}\n" for line in truth)
    assert (await client.get(log_path(name), params={"tailLines": "2"})).text == "line 4\nline 5\n"
    assert (await client.get(log_path(name), params={"limitBytes": "10"})).text == "line 1\nlin"
    since = timefmt.format_seconds(truth[0].ts_ns)
    assert (await client.get(log_path(name), params={"sinceTime": since})).text.startswith("line 1")
    # A fraction is dropped (floor to the second): every line of that second comes back.
    fraction = timefmt.format_nano(truth[-1].ts_ns)
    second = timefmt.floor_to_second(truth[-1].ts_ns)
    expected = "".join(line.data.decode() + "\n" for line in truth if line.ts_ns >= second)
    assert (await client.get(log_path(name), params={"sinceTime": fraction})).text == expected
    assert expected.endswith("line 5\n")
    future = timefmt.format_seconds(timefmt.now_ns() + 5 * 10**9)
    assert (await client.get(log_path(name), params={"sinceTime": future})).text == ""
    recent = await client.get(log_path(name), params={"sinceSeconds": "60"})
    assert recent.text.count("\n") == 5


async def test_a_one_mebibyte_line_and_an_unfinished_last_line_come_back_intact(
    kubesim_sim: KubeSim, client: httpx.AsyncClient
) -> None:
    name = await finished_pod(
        kubesim_sim, client, "big",
        "head -c 1048576 /dev/zero | tr '\\0' 'x'; echo; printf 'no newline at the end'")
    body = (await client.get(log_path(name), params={"timestamps": "true"})).content
    first, rest = body.split(b"\n", 1)
    assert first.split(b" ", 1)[1] == b"x" * 1048576
    assert rest.split(b" ", 1)[1] == b"no newline at the end"
    truth = kubesim_sim.output("default", name, "main")
    assert [len(line.data) for line in truth] == [1048576, 21]
    assert [line.newline for line in truth] == [True, False]


async def test_previous_serves_the_last_instance_of_a_restarted_container(
    kubesim_sim: KubeSim, client: httpx.AsyncClient, slow_autojump_clock: trio.testing.MockClock
) -> None:
    script = ("if [ -e /state/once ]; then echo second run; else touch /state/once; "
              "echo first run; exit 1; fi")
    job = job_manifest("again", script, backoff_limit=3,
                       pod_spec={"restartPolicy": "OnFailure",
                                 "volumes": [{"name": "state", "emptyDir": {}}]},
                       container={"volumeMounts": [{"name": "state", "mountPath": "/state"}]})
    await create_job(client, job)
    await wait_job_condition(kubesim_sim, "again", "Complete", within=300)
    [pod] = kubesim_sim.pods_of_job("default", "again")
    name = pod["metadata"]["name"]
    assert pod["status"]["containerStatuses"][0]["restartCount"] == 1
    last = pod["status"]["containerStatuses"][0]["lastState"]["terminated"]
    assert last["exitCode"] == 1
    assert (await client.get(log_path(name))).text == "second run\n"
    assert (await client.get(log_path(name), params={"previous": "true"})).text == "first run\n"
    assert [line.data for line in kubesim_sim.output("default", name, "main")] == [
        b"first run", b"second run"]


async def test_log_errors_are_api_statuses(kubesim_sim: KubeSim, client: httpx.AsyncClient) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "two"},
           "spec": {"restartPolicy": "Never",
                    "initContainers": [{"name": "i", "image": "x", "command": ["sleep", "30"]}],
                    "containers": [{"name": "a", "image": "x", "command": ["true"]},
                                   {"name": "b", "image": "x", "command": ["true"]}]}}
    assert (await client.post(PODS.format(ns="default"), json=pod)).status_code == 201
    with trio.fail_after(10):  # scheduled, init container running
        await kubesim_sim.wait_for(lambda: "running" in (
            (kubesim_sim.get("pods", "default", "two") or {}).get("status", {}).get(
                "initContainerStatuses", [{}])[0].get("state", {})))
    missing = await client.get(log_path("two"))
    assert missing.status_code == 400
    assert missing.json()["message"] == (
        "a container name must be specified for pod two, choose one of: [a b] or one of the "
        "init containers: [i]")
    bad = await client.get(log_path("two"), params={"container": "zz"})
    assert bad.json()["message"] == "container zz is not valid for pod two"
    waiting = await client.get(log_path("two"), params={"container": "a"})
    assert waiting.status_code == 400
    assert waiting.json()["message"] == (
        'container "a" in pod "two" is waiting to start: PodInitializing')
    previous = await client.get(log_path("two"), params={"container": "i", "previous": "true"})
    assert previous.json()["message"] == 'previous terminated container "i" in pod "two" not found'
    nothing = await client.get(log_path("nope"))
    assert (nothing.status_code, nothing.json()["reason"]) == (404, "NotFound")
    both = await client.get(log_path("two"), params={"container": "i", "sinceSeconds": "1",
                                                      "sinceTime": "2024-01-01T00:00:00Z"})
    assert both.status_code == 400


async def test_rotation_by_size_serves_only_the_current_file() -> None:
    async with kubesim.running(log_max_bytes=4096, log_max_files=2) as sim:
        async with httpx.AsyncClient(base_url=sim.url) as client:
            name = await finished_pod(sim, client, "rot", "seq 1 1000")
            served = (await client.get(log_path(name))).text.splitlines()
        truth = sim.output("default", name, "main")
    assert len(truth) == 1000
    assert served[-1] == "1000" and 0 < len(served) < 1000
    assert served == [line.data.decode() for line in truth[-len(served):]]


async def test_ground_truth_endpoint_outlives_the_pod(kubesim_sim: KubeSim,
                                                      client: httpx.AsyncClient) -> None:
    name = await finished_pod(kubesim_sim, client, "truth",
                              "echo out; echo err >&2; printf '\\377\\n'; printf 'end'")
    stamped = (await client.get(log_path(name), params={"timestamps": "true"})).content
    await client.delete(JOBS.format(ns="default") + "/truth",
                        params={"propagationPolicy": "Foreground"})
    with trio.fail_after(10):
        await kubesim_sim.wait_for(lambda: kubesim_sim.get("pods", "default", name) is None)
    assert (await client.get(log_path(name))).status_code == 404
    record = (await client.get(f"/_kubesim/output/default/{name}/main")).json()["lines"]
    # stdout and stderr are separate pipes: only the order within each stream is defined.
    by_stream = {stream: [(line["text"], line["newline"]) for line in record
                          if line["stream"] == stream] for stream in ("stdout", "stderr")}
    assert by_stream == {"stdout": [("out", True), ("\ufffd", True), ("end", False)],
                         "stderr": [("err", True)]}
    assert [line["base64"] for line in record if "base64" in line] == ["/w=="]
    assert all(line["timestamp"] == timefmt.format_nano(line["ts_ns"]) for line in record)
    as_log = (await client.get(f"/_kubesim/output/default/{name}/main",
                               params={"format": "log"})).content
    assert as_log == stamped
