"""The socket itself: file mode, stale vs live sockets, one daemon per log, peer credentials,
socket activation, systemd notifications, curl, and retention through the API."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import stat
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
import trio

from events import EventStore, LogLocked, fold, state_hash
from supervisor import config, daemon, sdnotify
from supervisor.api import errors, peercred
from supervisor.api.client import AsyncSupervisorClient
from tests.api import fake_runs
from tests.api.conftest import all_events, run_body, start_daemon, stop_daemon, wait_for_phase


async def test_socket_mode_is_0660_by_default_and_configurable(
        nursery: trio.Nursery, settings: config.DaemonConfig) -> None:
    running = await start_daemon(nursery, settings)
    assert stat.S_IMODE(os.stat(settings.socket_path).st_mode) == 0o660
    await stop_daemon(running)
    assert not await trio.Path(settings.socket_path).exists()  # our own file is removed at stop
    tight = msgspec.structs.replace(settings, socket_mode=0o600)
    running = await start_daemon(nursery, tight)
    assert stat.S_IMODE(os.stat(settings.socket_path).st_mode) == 0o600
    await stop_daemon(running)


async def test_a_stale_socket_is_replaced_and_a_live_one_refused(
        nursery: trio.Nursery, settings: config.DaemonConfig, sock_dir: Path) -> None:
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(settings.socket_path)
    dead.close()  # the file stays behind, as after a crash
    running = await start_daemon(nursery, settings)
    async with AsyncSupervisorClient(settings.socket_path) as api:
        assert (await api.version())["api"] == "v1"
    # A second daemon (its own database) must not steal the live socket.
    other = msgspec.structs.replace(settings, db_path=str(sock_dir / "other.db"))
    with pytest.raises(daemon.DaemonError, match="another daemon is listening on"):
        await start_daemon(nursery, other)
    async with AsyncSupervisorClient(settings.socket_path) as api:
        assert (await api.health())["ok"] is True
    await stop_daemon(running)


async def test_a_path_that_is_not_a_socket_is_never_replaced(
        nursery: trio.Nursery, settings: config.DaemonConfig) -> None:
    await trio.Path(settings.socket_path).write_text("precious")
    with pytest.raises(daemon.DaemonError, match="exists and is not a socket"):
        await start_daemon(nursery, settings)
    assert await trio.Path(settings.socket_path).read_text() == "precious"


async def test_two_daemons_never_share_a_database(
        nursery: trio.Nursery, settings: config.DaemonConfig, sock_dir: Path) -> None:
    running = await start_daemon(nursery, settings)
    second = msgspec.structs.replace(settings, socket_path=str(sock_dir / "second.sock"))
    with pytest.raises(LogLocked, match="another paperclip-supervisor is using this event log"):
        await start_daemon(nursery, second)
    assert not await trio.Path(second.socket_path).exists()
    await stop_daemon(running)


async def test_a_peer_not_on_the_allowed_list_gets_403(
        nursery: trio.Nursery, settings: config.DaemonConfig) -> None:
    # The daemon's own uid is normally always allowed; this policy allows only someone else.
    policy = peercred.PeerPolicy(allowed_uids=frozenset({4242}), own_uid=None)
    running = await start_daemon(nursery, settings, peer_policy=policy)
    async with AsyncSupervisorClient(settings.socket_path) as api:
        with pytest.raises(errors.ApiError) as refused:
            await api.start_run(run_body("r-denied"))
    assert refused.value.status == 403 and refused.value.code == "peer_not_allowed"
    assert f"uid {os.getuid()}" in refused.value.message
    assert running.server.refused == 1 and running.supervisor.state.runs == {}
    await stop_daemon(running)


# A Python the unprivileged user can run (the venv may live under a private home).
SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin")


@pytest.mark.skipif(os.getuid() != 0 or SYSTEM_PYTHON is None,
                    reason="needs root and a system python3 to connect as another uid")
async def test_peer_credentials_of_another_uid_are_checked(
        nursery: trio.Nursery, settings: config.DaemonConfig, sock_dir: Path) -> None:
    await trio.Path(sock_dir).chmod(0o755)
    open_settings = msgspec.structs.replace(settings, socket_mode=0o666, allowed_uids=(4242,))
    running = await start_daemon(nursery, open_settings)
    probe = ("import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]);"
             "s.sendall(b'GET /v1/version HTTP/1.1\\r\\nhost: x\\r\\nconnection: close\\r\\n\\r\\n');"
             "print(s.recv(65536).decode().splitlines()[0])")

    def as_nobody() -> str:
        assert SYSTEM_PYTHON is not None
        out = subprocess.run([SYSTEM_PYTHON, "-c", probe, settings.socket_path], user=65534,
                             group=65534, capture_output=True, text=True, timeout=20)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    assert await trio.to_thread.run_sync(as_nobody) == "HTTP/1.1 403 Forbidden"
    await stop_daemon(running)
    # The same peer, once its gid is on the list, gets through.
    allowed = msgspec.structs.replace(open_settings, allowed_gids=(65534,))
    running = await start_daemon(nursery, allowed)
    assert (await trio.to_thread.run_sync(as_nobody)).startswith("HTTP/1.1 200")
    await stop_daemon(running)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
async def test_curl_unix_socket(running: daemon.Daemon) -> None:
    assert running.socket_path is not None

    socket_path = running.socket_path

    def curl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["curl", "-sS", "--unix-socket", socket_path, *args],
                              capture_output=True, text=True, timeout=30)

    version = await trio.to_thread.run_sync(curl, "http://localhost/v1/version")
    assert msgspec.json.decode(version.stdout)["api"] == "v1"
    created = await trio.to_thread.run_sync(
        curl, "-w", "\n%{http_code}", "-H", "content-type: application/json", "-d",
        '{"runId": "r-curl", "agent": {"id": "agent-7"}, "prompt": "say hi"}',
        "http://localhost/v1/runs")
    body, status = created.stdout.rsplit("\n", 1)
    assert status == "201" and msgspec.json.decode(body)["run"]["runId"] == "r-curl"
    streamed = await trio.to_thread.run_sync(
        curl, "http://localhost/v1/runs/r-curl/events?follow=1")
    kinds = [msgspec.json.decode(line)["kind"] for line in streamed.stdout.splitlines()]
    assert kinds[0] == "run.requested" and kinds[-1] == "run.finished"


async def test_an_inherited_listening_socket_is_served(
        nursery: trio.Nursery, settings: config.DaemonConfig, sock_dir: Path) -> None:
    path = str(sock_dir / "activated.sock")
    listening = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listening.bind(path)
    listening.listen()
    running = await start_daemon(nursery, settings, inherited_fds=[listening.detach()])
    assert not await trio.Path(settings.socket_path).exists()  # nothing bound on the configured path
    async with AsyncSupervisorClient(path) as api:
        await api.start_run(run_body("r-act"))
        await wait_for_phase(api, "r-act", "succeeded")
    await stop_daemon(running)
    assert await trio.Path(path).exists()  # systemd's socket file is systemd's


async def test_ready_and_watchdog_notifications(
        nursery: trio.Nursery, settings: config.DaemonConfig, sock_dir: Path) -> None:
    notify_path = str(sock_dir / "notify.sock")
    manager = trio.socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    await manager.bind(notify_path)
    env = {"NOTIFY_SOCKET": notify_path, "WATCHDOG_USEC": "100000", "OTHER": "kept"}
    notifier = sdnotify.Notifier.from_env(env)
    assert env == {"OTHER": "kept"} and notifier.watchdog_seconds == 0.1
    running = await start_daemon(nursery, settings, notifier=notifier)
    messages: list[str] = []
    with trio.fail_after(10):
        while messages.count("WATCHDOG=1") < 3:
            messages.append((await manager.recv(4096)).decode())
    # READY comes first: after recovery, with the API already answering.
    assert messages[0].startswith("READY=1\nSTATUS=serving on ")
    async with AsyncSupervisorClient(settings.socket_path) as api:
        kinds = [e["kind"] for e in await all_events(api, None)]
    assert kinds[0] == "supervisor.started"
    running.request_stop("test over")
    with trio.fail_after(10):
        while not messages[-1].startswith("STOPPING=1"):
            messages.append((await manager.recv(4096)).decode())
        await running.stopped.wait()
    manager.close()


async def test_prune_removes_only_old_finished_runs_and_replay_agrees(
        running: daemon.Daemon, client: AsyncSupervisorClient) -> None:
    await client.start_run(run_body("r-old"))
    await client.start_run(run_body("r-live", prompt="hold"))
    await wait_for_phase(client, "r-old", "succeeded")
    await wait_for_phase(client, "r-live", "running")
    dry = await client.prune(1e-6, dry_run=True)
    assert dry["runIds"] == ["r-old"] and dry["seq"] is None and dry["eventsRemoved"] > 5
    assert (await client.get_run("r-old"))["phase"] == "succeeded"
    done = await client.prune(1e-6)
    assert done["runIds"] == ["r-old"] and done["eventsRemoved"] == dry["eventsRemoved"]
    assert [r["runId"] for r in await client.list_runs()] == ["r-live"]
    with pytest.raises(errors.ApiError):
        await client.get_run("r-old")
    assert (await client.prune(1e-6))["runIds"] == []  # nothing twice
    pruned = await all_events(client, None, kinds=("runs.pruned",))
    assert [p["runIds"] for p in pruned] == [["r-old"]]
    with EventStore.open_readonly(running.supervisor.log.path) as log:
        assert state_hash(fold(log.iter(0))) == state_hash(running.supervisor.state)
        assert log.read(0, run_id="r-old") == []
    fake_runs.release("r-live")
    await wait_for_phase(client, "r-live", "succeeded")
    bad = await client._http.post("/v1/prune", json={"olderThanSec": -1})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "olderThanSec"


async def test_a_failed_start_leaves_no_socket_and_frees_the_log(
        nursery: trio.Nursery, settings: config.DaemonConfig) -> None:
    @contextlib.asynccontextmanager
    async def no_credentials(_: config.DaemonConfig) -> AsyncIterator[None]:
        raise RuntimeError("no kubeconfig")
        yield

    with pytest.raises(RuntimeError, match="no kubeconfig"):
        await start_daemon(nursery, settings, kube_client_factory=no_credentials)
    assert not await trio.Path(settings.socket_path).exists()
    running = await start_daemon(nursery, settings)  # the log's lock was released
    await stop_daemon(running)
