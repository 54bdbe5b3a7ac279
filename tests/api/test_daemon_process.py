"""``paperclip-supervisor serve`` as a process: SIGTERM, socket activation, systemd notify."""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

from events import EventStore, fold, types
from supervisor.api.client import SupervisorClient
from tests.api.daemon_process import DaemonProcess


def test_sigterm_stops_cleanly_records_the_stop_and_deletes_nothing(sock_dir: Path) -> None:
    with DaemonProcess(sock_dir) as daemon:
        daemon.wait_ready()
        with SupervisorClient(daemon.socket_path) as client:
            client.start_run({"runId": "r-live", "agent": {"id": "a"}, "prompt": "hold tick"})
            deadline = time.monotonic() + 10
            while client.get_run("r-live")["phase"] != "running":
                assert time.monotonic() < deadline, "the run never started running"
                time.sleep(0.01)
        started = time.monotonic()
        assert daemon.terminate() == 0
        assert time.monotonic() - started < 5
    with EventStore.open_readonly(daemon.db_path) as log:
        events = log.read(0)
        folded = fold(events)
    stopped = events[-1].event
    assert isinstance(stopped, types.SupervisorStopped) and stopped.reason == "SIGTERM"
    kinds = {e.kind for e in events if e.run_id == "r-live"}
    assert "run.finished" not in kinds and "cancel.requested" not in kinds
    assert folded.runs["r-live"].phase == "running"  # left running: reattached on restart
    assert not os.path.exists(daemon.socket_path)
    records = [line for line in daemon.stderr.splitlines() if line.startswith("{")]
    assert any('"event":"daemon.stopping"' in r and '"reason":"SIGTERM"' in r for r in records)


# What systemd does before exec'ing the service: the listening socket becomes fd 3 and
# LISTEN_PID names the service's own pid (exec keeps it).
_ACTIVATE = """
import os, sys
fd = int(os.environ.pop("FD"))
if fd != 3:
    os.dup2(fd, 3)
    os.close(fd)
os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS="1")
os.execv(sys.argv[1], sys.argv[1:])
"""


def test_socket_activation_and_systemd_notifications(sock_dir: Path) -> None:
    activated = str(sock_dir / "activated.sock")
    listening = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listening.bind(activated)
    listening.listen()
    manager = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    manager.bind(str(sock_dir / "notify.sock"))
    manager.settimeout(15)
    fd = listening.fileno()
    # What systemd does: the socket as fd 3, LISTEN_PID = the service's own pid.
    wrapper = [sys.executable, "-c", _ACTIVATE]
    env = {"FD": str(fd), "NOTIFY_SOCKET": str(sock_dir / "notify.sock"),
           "WATCHDOG_USEC": "200000"}
    try:
        with DaemonProcess(sock_dir, env=env, pass_fds=[fd], wrapper=wrapper) as daemon:
            try:
                messages = [manager.recv(4096).decode()]
            except TimeoutError:
                raise AssertionError(daemon.stderr) from None
            assert messages[0].startswith("READY=1")
            daemon.wait_ready(activated)
            assert not os.path.exists(daemon.socket_path)  # the configured path is unused
            with SupervisorClient(activated) as client:
                assert client.version()["api"] == "v1"
            while messages.count("WATCHDOG=1") < 2:
                messages.append(manager.recv(4096).decode())
            assert daemon.terminate() == 0
            while not messages[-1].startswith("STOPPING=1"):
                messages.append(manager.recv(4096).decode())
        assert os.path.exists(activated)  # systemd's socket file is left alone
    finally:
        listening.close()
        manager.close()
