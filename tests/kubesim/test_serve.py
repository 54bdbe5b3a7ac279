"""``python -m kubesim serve`` as a process, and the launchers other test areas use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import kubernetes
import pytest
import trio

import kubesim
from kubesim import testing

from .helpers import job_manifest


def test_sync_launcher_serves_a_kubeconfig_the_python_client_loads(tmp_path: Path) -> None:
    with testing.launch(tmp_path / "sim", "--seed", "5") as sim:
        assert sim.url.startswith("http://127.0.0.1:")
        client = kubernetes.config.new_client_from_config(config_file=str(sim.kubeconfig))
        batch = kubernetes.client.BatchV1Api(client)
        batch.create_namespaced_job("default", job_manifest("sub", "true"))
        assert [job.metadata.name for job in batch.list_namespaced_job("default").items] == ["sub"]
        config = json.loads(sim.kubeconfig.read_text())
        assert config["clusters"][0]["cluster"]["server"] == sim.url
        assert oct(sim.kubeconfig.stat().st_mode & 0o777) == "0o600"
        pid = sim.pid
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def pgrep(pattern: str) -> subprocess.CompletedProcess[bytes]:
    return await trio.run_process(["pgrep", "-f", pattern], capture_stdout=True, check=False)


async def wait_for_process(pattern: str) -> None:
    for _ in range(400):  # bounded poll: up to 20 s for the container's process to exist
        if (await pgrep(pattern)).stdout:
            return
        await trio.sleep(0.05)
    pytest.fail(f"no process matching {pattern!r} appeared")


async def test_stopping_the_process_kills_its_containers(tmp_path: Path) -> None:
    tag = f"kubesim-serve-test-{os.getpid()}"
    async with testing.launch_async(tmp_path / "sim") as sim:
        async with httpx.AsyncClient(base_url=sim.url) as client:
            job = job_manifest("long", f"exec -a {tag} sleep 300")
            assert (await client.post("/apis/batch/v1/namespaces/default/jobs",
                                      json=job)).status_code == 201
            await wait_for_process(tag)
    assert (await pgrep(tag)).stdout == b""


def running(pid: int) -> bool:
    """Whether ``pid`` is alive (an exited process nobody reaped yet counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_parent_pid_stops_an_abandoned_simulator(tmp_path: Path) -> None:
    work = tmp_path / "work"
    out = tmp_path / "out"
    # A shell starts the simulator in the background and exits: the simulator is orphaned.
    subprocess.run(
        ["sh", "-c", f'"{sys.executable}" -m kubesim serve --work-dir {work} --parent-pid $$ '
                     f"> {out} 2>&1 & echo $! > {tmp_path / 'pid'}"],
        check=True,
    )
    pid = int((tmp_path / "pid").read_text())
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if not running(pid):
            break
        time.sleep(0.1)
    else:
        os.kill(pid, 9)
        pytest.fail("the orphaned simulator did not stop")
    assert "Traceback" not in out.read_text()


def test_serve_refuses_a_non_loopback_host(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kubesim", "serve", "--host", "0.0.0.0",
         "--work-dir", str(tmp_path)],
        capture_output=True, check=False, timeout=30,
    )
    assert result.returncode == 2
    assert b"loopback only" in result.stderr


def test_serve_rejects_malformed_options(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kubesim", "serve", "--pvc", "no-equals-sign"],
        capture_output=True, check=False, timeout=30,
    )
    assert result.returncode != 0
    assert b"--pvc expects NAME=VALUE" in result.stderr


async def test_running_block_kills_containers_even_when_the_test_fails(tmp_path: Path) -> None:
    tag = f"kubesim-failing-test-{os.getpid()}"
    # The block runs inside the simulator's nursery, so its error arrives in a group.
    with pytest.RaisesGroup(pytest.RaisesExc(RuntimeError, match="the test failed")):
        async with kubesim.running(work_dir=tmp_path / "sim") as sim:
            async with httpx.AsyncClient(base_url=sim.url) as client:
                response = await client.post("/apis/batch/v1/namespaces/default/jobs",
                                             json=job_manifest("doomed", f"exec -a {tag} sleep 300"))
                assert response.status_code == 201
            await wait_for_process(tag)
            raise RuntimeError("the test failed")
    assert (await pgrep(tag)).stdout == b""
    assert not await trio.Path(tmp_path / "sim" / "pods").exists() or not any(
        await trio.Path(tmp_path / "sim" / "pods").iterdir())


def test_sync_launcher_stops_the_simulator_when_the_test_fails(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="deliberate"):
        with testing.launch(tmp_path / "sim") as sim:
            pid = sim.pid
            raise AssertionError("deliberate")
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_serve_seeds_a_self_pod_and_applies_deny_rules(tmp_path: Path) -> None:
    manifest = tmp_path / "self.json"
    manifest.write_text(json.dumps({
        "metadata": {"name": "paperclip-0"},
        "spec": {"containers": [{"name": "paperclip", "image": "paperclip:2"}]},
    }))
    with testing.launch(tmp_path / "sim", "--self-pod", str(manifest), "--namespace", "agents",
                        "--deny", "delete:jobs") as sim:
        with httpx.Client(base_url=sim.url) as client:
            pod = client.get("/api/v1/namespaces/agents/pods/paperclip-0").json()
            assert (pod["status"]["phase"], pod["spec"]["containers"][0]["image"]) == (
                "Running", "paperclip:2")
            review = client.post(
                "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                json={"spec": {"resourceAttributes": {"verb": "delete", "group": "batch",
                                                      "resource": "jobs", "namespace": "agents"}}},
            ).json()
            assert review["status"]["allowed"] is False
            assert client.delete("/apis/batch/v1/namespaces/agents/jobs/x").status_code == 403
            assert client.get("/apis/batch/v1/namespaces/agents/jobs/x").status_code == 404
        assert json.loads(sim.kubeconfig.read_text())["contexts"][0]["context"]["namespace"] == (
            "agents")
