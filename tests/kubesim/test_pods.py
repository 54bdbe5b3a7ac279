"""The kubelet: environment, volumes, mount isolation, init containers, signals, statuses."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import httpx
import pytest
import trio
import trio.testing

import kubesim
from kubesim.sim import KubeSim

from .helpers import (
    PODS,
    container_state,
    create_job,
    job_manifest,
    phase,
    wait_job_condition,
    wait_pod,
)

pytestmark = pytest.mark.filterwarnings("error")


def text(sim: KubeSim, job: str, container: str = "main") -> str:
    """Everything a job's (only) pod printed in one container."""
    [pod] = sim.pods_of_job("default", job)
    lines = sim.output("default", pod["metadata"]["name"], container)
    return "".join(line.data.decode() + ("\n" if line.newline else "") for line in lines)


async def post(client: httpx.AsyncClient, path: str, body: dict[str, object]) -> None:
    response = await client.post(path, json=body)
    assert response.status_code == 201, response.text


async def test_env_comes_from_the_spec_secrets_configmaps_and_fields_only(
    kubesim_sim: KubeSim, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBESIM_TEST_LEAK", "must-not-leak")
    await post(client, "/api/v1/namespaces/default/secrets", {
        "metadata": {"name": "creds"},
        "data": {"token": base64.b64encode(b"s3cret").decode(), "USER": base64.b64encode(b"bob").decode()},
    })
    await post(client, "/api/v1/namespaces/default/configmaps", {
        "metadata": {"name": "settings"}, "data": {"MODE": "fast"},
    })
    script = (
        'echo "TOKEN=$TOKEN USER=$USER MODE=$MODE POD=$POD_NAME NS=$POD_NS '
        'GREETING=$GREETING LEAK=${KUBESIM_TEST_LEAK:-none} HOSTNAME=$HOSTNAME"'
    )
    job = job_manifest("env", script, container={
        "env": [
            {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "POD_NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "GREETING", "value": "hi $(USER) in $(MODE)"},
        ],
        "envFrom": [{"secretRef": {"name": "creds"}}, {"configMapRef": {"name": "settings"}}],
    })
    await create_job(client, job)
    await wait_job_condition(kubesim_sim, "env", "Complete")
    [pod] = kubesim_sim.pods_of_job("default", "env")
    name = pod["metadata"]["name"]
    assert text(kubesim_sim, "env") == (
        f"TOKEN=s3cret USER=bob MODE=fast POD={name} NS=default GREETING=hi bob in fast "
        f"LEAK=none HOSTNAME={name}\n"
    )


async def test_missing_secret_is_create_container_config_error_until_it_exists(
    kubesim_sim: KubeSim, client: httpx.AsyncClient, slow_autojump_clock: trio.testing.MockClock
) -> None:
    job = job_manifest("late", 'echo "$KEY"', container={"env": [
        {"name": "KEY", "valueFrom": {"secretKeyRef": {"name": "later", "key": "k"}}}]})
    await create_job(client, job)
    pod = await wait_pod(kubesim_sim, "late", lambda pod: container_state(pod)["state"].get(
        "waiting", {}).get("reason") == "CreateContainerConfigError")
    assert container_state(pod)["state"]["waiting"]["message"] == 'secret "later" not found'
    await post(client, "/api/v1/namespaces/default/secrets",
               {"metadata": {"name": "later"}, "stringData": {"k": "v"}})
    await wait_job_condition(kubesim_sim, "late", "Complete")
    assert text(kubesim_sim, "late") == "v\n"


@pytest.mark.parametrize("isolation", ["namespace", "pathmap"])
async def test_supervisor_shaped_pod_reads_prompt_and_tees_to_the_shared_volume(
    tmp_path: Path, isolation: str
) -> None:
    if isolation == "namespace" and os.geteuid() != 0:
        pytest.skip("mount namespaces need root")
    shared = tmp_path / "shared"
    (shared / "run-logs").mkdir(parents=True)
    tools = tmp_path / "tools"
    tools.mkdir()
    fake = tools / "claude"
    fake.write_text('#!/bin/sh\necho "{\\"args\\": \\"$*\\", \\"stdin\\": \\"$(cat)\\"}"\n')
    fake.chmod(0o755)
    (shared / "bundle.md").write_text("written by the supervisor")
    job = job_manifest(
        "shaped",
        "set -o pipefail; cat /tmp/prompt/prompt.txt | claude --print - --add-dir "
        "/paperclip/bundle.md | tee /paperclip/run-logs/run.ndjson; cat /paperclip/bundle.md",
        init_script="printf '%s' \"$PROMPT_CONTENT\" > /tmp/prompt/prompt.txt",
        pod_spec={"volumes": [
            {"name": "prompt", "emptyDir": {}},
            {"name": "data", "persistentVolumeClaim": {"claimName": "paperclip-data"}},
        ]},
    )
    pod_spec = job["spec"]["template"]["spec"]
    pod_spec["initContainers"][0]["env"] = [{"name": "PROMPT_CONTENT", "value": "do the thing"}]
    pod_spec["initContainers"][0]["volumeMounts"] = [
        {"name": "prompt", "mountPath": "/tmp/prompt"}]
    pod_spec["containers"][0]["volumeMounts"] = [
        {"name": "prompt", "mountPath": "/tmp/prompt"},
        {"name": "data", "mountPath": "/paperclip"},
    ]
    # The machine may already have these paths (from other software): what matters is that
    # the pod's own writes never reach the host's copies.
    host_files = [trio.Path("/paperclip/run-logs/run.ndjson"), trio.Path("/tmp/prompt/prompt.txt")]
    existed = [await path.exists() for path in host_files]
    async with kubesim.running(work_dir=tmp_path / "sim", isolation=isolation,
                               pvc_dirs={"paperclip-data": shared}, path_prepend=[tools]) as sim:
        assert sim.isolation == isolation
        async with httpx.AsyncClient(base_url=sim.url) as client:
            await create_job(client, job)
            await wait_job_condition(sim, "shaped", "Complete")
        expected = '{"args": "--print - --add-dir ' + (
            "/paperclip" if isolation == "namespace" else str(shared)
        ) + '/bundle.md", "stdin": "do the thing"}\n'
        assert (shared / "run-logs" / "run.ndjson").read_text() == expected
        assert text(sim, "shaped") == expected + "written by the supervisor"
    assert [await path.exists() for path in host_files] == existed


async def test_pipefail_works_because_sh_runs_as_bash(kubesim_sim: KubeSim,
                                                      client: httpx.AsyncClient) -> None:
    await create_job(client, job_manifest("pipefail", "set -o pipefail; false | cat"))
    pod = await wait_pod(kubesim_sim, "pipefail", lambda pod: phase(pod) == "Failed")
    assert container_state(pod)["state"]["terminated"]["exitCode"] == 1


async def test_namespace_isolation_keeps_container_writes_off_the_host(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("mount namespaces need root")
    marker = tmp_path / "written-by-container"
    async with kubesim.running(work_dir=tmp_path / "sim", isolation="namespace") as sim:
        async with httpx.AsyncClient(base_url=sim.url) as client:
            await create_job(client, job_manifest(
                "private", f"echo x > {marker}; mkdir -p /opt/kubesim-made; cat {marker}"))
            await wait_job_condition(sim, "private", "Complete")
        assert text(sim, "private") == "x\n"
    assert not await trio.Path(marker).exists()
    assert not await trio.Path("/opt/kubesim-made").exists()


async def test_secret_volume_files_are_materialised_read_only(
    kubesim_sim: KubeSim, client: httpx.AsyncClient
) -> None:
    await post(client, "/api/v1/namespaces/default/secrets",
               {"metadata": {"name": "big-prompt"}, "stringData": {"prompt.txt": "large"}})
    job = job_manifest(
        "secretvol", "cat /tmp/prompt-secret/prompt.txt; echo; touch /tmp/prompt-secret/x "
        "2>/dev/null && echo writable || echo read-only",
        pod_spec={"volumes": [{"name": "s", "secret": {"secretName": "big-prompt"}}]},
        container={"volumeMounts": [{"name": "s", "mountPath": "/tmp/prompt-secret",
                                     "readOnly": True}]},
    )
    await create_job(client, job)
    await wait_job_condition(kubesim_sim, "secretvol", "Complete")
    expected_mode = "read-only" if kubesim_sim.isolation == "namespace" else "writable"
    assert text(kubesim_sim, "secretvol") == f"large\n{expected_mode}\n"


async def test_init_container_runs_first_and_statuses_show_each_stage(
    kubesim_sim: KubeSim, client: httpx.AsyncClient
) -> None:
    await create_job(client, job_manifest("stages", "echo main", init_script="echo init"))
    job = await wait_job_condition(kubesim_sim, "stages", "Complete")
    assert job["status"]["succeeded"] == 1
    [pod] = kubesim_sim.pods_of_job("default", "stages")
    init = container_state(pod, "init")["state"]["terminated"]
    main = container_state(pod, "main")["state"]["terminated"]
    assert init["finishedAt"] <= main["startedAt"]
    assert (init["reason"], main["reason"]) == ("Completed", "Completed")
    conditions = {c["type"]: c for c in pod["status"]["conditions"]}
    assert conditions["PodScheduled"]["status"] == "True"
    assert conditions["Initialized"]["status"] == "True"
    assert (conditions["Ready"]["status"], conditions["Ready"]["reason"]) == ("False", "PodCompleted")
    assert text(kubesim_sim, "stages", "init") == "init\n"


async def test_failed_init_container_fails_the_pod_and_main_never_starts(
    kubesim_sim: KubeSim, client: httpx.AsyncClient
) -> None:
    await create_job(client, job_manifest("initfail", "echo main", init_script="exit 7"))
    pod = await wait_pod(kubesim_sim, "initfail", lambda pod: phase(pod) == "Failed")
    assert container_state(pod, "init")["state"]["terminated"]["exitCode"] == 7
    assert container_state(pod, "main")["state"]["waiting"]["reason"] == "PodInitializing"


async def test_delete_sends_sigterm_then_sigkill_after_the_grace_period(
    kubesim_sim: KubeSim, client: httpx.AsyncClient
) -> None:
    job = job_manifest("stubborn", "trap 'echo TERM ignored' TERM; echo ready; "
                       "while true; do sleep 0.05; done",
                       pod_spec={"terminationGracePeriodSeconds": 1})
    await create_job(client, job)
    pod = await wait_pod(kubesim_sim, "stubborn", lambda pod: phase(pod) == "Running")
    name = pod["metadata"]["name"]
    with trio.fail_after(10):
        await kubesim_sim.wait_for(lambda: kubesim_sim.output("default", name, "main"))
    started = trio.current_time()
    before = kubesim_sim.store.resource_version
    response = await client.delete(PODS.format(ns="default") + "/" + name)
    assert response.status_code in (200, 202)
    assert response.json()["metadata"]["deletionGracePeriodSeconds"] == 1
    with trio.fail_after(10):
        await kubesim_sim.wait_for(lambda: kubesim_sim.get("pods", "default", name) is None)
    assert trio.current_time() - started >= 1.0
    [removal] = [change for change in kubesim_sim.store.changes_since(before)
                 if change.type == "DELETED" and change.name == name]
    final = container_state(removal.object())["state"]["terminated"]
    assert (final["exitCode"], final["signal"]) == (137, 9)
    lines = [line.data for line in kubesim_sim.output("default", name, "main")]
    assert lines == [b"ready", b"TERM ignored"]


async def test_processes_left_behind_by_a_container_are_killed(
    kubesim_sim: KubeSim, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    tag = f"kubesim-straggler-{os.getpid()}"
    await create_job(client, job_manifest("straggler", f"exec -a {tag} sleep 300 & echo bye"))
    await wait_job_condition(kubesim_sim, "straggler", "Complete")
    found = await trio.run_process(["pgrep", "-f", tag], capture_stdout=True, check=False)
    assert found.stdout == b""


async def test_unknown_command_is_a_start_error(kubesim_sim: KubeSim,
                                                client: httpx.AsyncClient) -> None:
    job = job_manifest("noexec", "unused")
    job["spec"]["template"]["spec"]["containers"][0]["command"] = ["no-such-binary-kubesim"]
    await create_job(client, job)
    pod = await wait_pod(kubesim_sim, "noexec", lambda pod: phase(pod) == "Failed")
    terminated = container_state(pod)["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (128, "StartError")
    assert "no-such-binary-kubesim" in terminated["message"]


async def test_claude_shim_is_on_path_after_path_prepend(tmp_path: Path) -> None:
    first = tmp_path / "first"
    first.mkdir()
    async with kubesim.running(work_dir=tmp_path / "sim", path_prepend=[first]) as sim:
        async with httpx.AsyncClient(base_url=sim.url) as client:
            await create_job(client, job_manifest(
                "shim", 'echo "$PATH"; command -v claude; cat "$(command -v claude)"'))
            await wait_job_condition(sim, "shim", "Complete")
        lines = text(sim, "shim").splitlines()
    assert lines[0].split(":")[:2] == [str(first), str(tmp_path / "sim" / "bin")]
    assert lines[1] == str(tmp_path / "sim" / "bin" / "claude")
    assert lines[-1].endswith('-m kubesim.fake_claude "$@"')


async def test_a_pod_created_directly_runs(kubesim_sim: KubeSim, client: httpx.AsyncClient) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "solo"},
           "spec": {"restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "x", "command": ["echo", "solo"]}]}}
    await post(client, PODS.format(ns="default"), pod)
    with trio.fail_after(10):
        await kubesim_sim.wait_for(
            lambda: phase(kubesim_sim.get("pods", "default", "solo") or {}) == "Succeeded")
    assert [line.data for line in kubesim_sim.output("default", "solo", "c")] == [b"solo"]


async def test_seeded_self_pod_is_running_and_nothing_runs_it(kubesim_sim: KubeSim,
                                                              client: httpx.AsyncClient) -> None:
    kubesim_sim.seed_pod({
        "metadata": {"name": "paperclip-0", "namespace": "agents"},
        "spec": {"containers": [{"name": "paperclip", "image": "paperclip:1",
                                 "command": ["false"],
                                 "env": [{"name": "A", "value": "1"}],
                                 "volumeMounts": [{"name": "data", "mountPath": "/paperclip"}]}],
                 "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "pc"}}]},
    })
    response = await client.get("/api/v1/namespaces/agents/pods/paperclip-0")
    pod = response.json()
    assert phase(pod) == "Running"
    assert pod["spec"]["containers"][0]["image"] == "paperclip:1"
    assert pod["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == "pc"
    assert kubesim_sim.output("agents", "paperclip-0", "paperclip") == []


async def test_the_default_claude_is_the_fake_one(kubesim_sim: KubeSim,
                                                 client: httpx.AsyncClient) -> None:
    await create_job(client, job_manifest(
        "fake", "set -o pipefail; printf '%s' 'hello' | claude -p --output-format stream-json "
        "--verbose | tee /tmp/run.ndjson"))
    await wait_job_condition(kubesim_sim, "fake", "Complete")
    records = [json.loads(line) for line in text(kubesim_sim, "fake").splitlines()]
    assert records[0]["type"] == "system" and records[-1]["type"] == "result"
