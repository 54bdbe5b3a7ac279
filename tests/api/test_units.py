"""Small pure parts: structured logs, systemd env parsing, durations, prune selection, policy."""

from __future__ import annotations

import argparse
import io
import json
import logging

import pytest

from events import state
from supervisor import logs, sdnotify
from supervisor.api import peercred, retention
from supervisor.cli import common


def test_json_logs_carry_fields_and_never_secrets() -> None:
    stream = io.StringIO()
    handler = logs.configure("json", stream=stream)
    try:
        logging.getLogger("supervisor.test").info(
            "run.accepted", extra=logs.fields(run_id="r-1", prompt="top secret",
                                              api_token="t0k3n", secret_env={"X": "y"}))
    finally:
        logging.getLogger().removeHandler(handler)
    record = json.loads(stream.getvalue())
    assert record["event"] == "run.accepted" and record["run_id"] == "r-1"
    assert record["logger"] == "supervisor.test" and record["level"] == "info"
    assert record["prompt"] == record["api_token"] == record["secret_env"] == "<redacted>"
    assert "top secret" not in stream.getvalue() and "t0k3n" not in stream.getvalue()


def test_console_logs_and_bad_format() -> None:
    stream = io.StringIO()
    handler = logs.configure("console", stream=stream)
    try:
        logging.getLogger("supervisor.test").warning("api.peer_refused",
                                                     extra=logs.fields(uid=1000))
    finally:
        logging.getLogger().removeHandler(handler)
    assert "WARNING supervisor.test api.peer_refused uid=1000" in stream.getvalue()
    with pytest.raises(ValueError, match="json, console"):
        logs.configure("yaml")


def test_notify_env_is_read_once_and_removed() -> None:
    env = {"NOTIFY_SOCKET": "@abstract", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "42"}
    other_pid = sdnotify.Notifier.from_env(dict(env), pid=7)
    assert other_pid.enabled and other_pid.watchdog_seconds is None  # pings meant for pid 42
    ours = sdnotify.Notifier.from_env(env, pid=42)
    assert ours.watchdog_seconds == 30.0 and env == {}
    assert not sdnotify.Notifier.from_env({}).enabled
    assert sdnotify.Notifier(None).notify("READY=1") is False


def test_listen_fds_only_for_this_process() -> None:
    env = {"LISTEN_PID": "99", "LISTEN_FDS": "1", "LISTEN_FDNAMES": "api"}
    assert sdnotify.inherited_sockets(env, pid=100) == [] and env == {}
    assert sdnotify.inherited_sockets({}, pid=1) == []
    with pytest.raises(ValueError, match="expected numbers"):
        sdnotify.inherited_sockets({"LISTEN_PID": "x", "LISTEN_FDS": "1"}, pid=1)


@pytest.mark.parametrize("text, seconds", [("90", 90), ("90s", 90), ("30m", 1800),
                                           ("12h", 43200), ("7d", 604800), ("2w", 1209600),
                                           ("1h30m", 5400), ("0.5s", 0.5)])
def test_durations(text: str, seconds: float) -> None:
    assert common.duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "0", "-5m", "5 m", "1x", "h1"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        common.duration(text)


def test_prunable_takes_only_old_terminal_runs_with_no_live_task() -> None:
    folded = state.LogState(runs={
        "old-done": state.RunState("old-done", phase="succeeded", updated_at=100, first_seq=1),
        "old-live": state.RunState("old-live", phase="running", updated_at=100, first_seq=2),
        "new-done": state.RunState("new-done", phase="failed", updated_at=500, first_seq=3),
        "old-task": state.RunState("old-task", phase="lost", updated_at=100, first_seq=4),
        "older": state.RunState("older", phase="cancelled", updated_at=50, first_seq=0),
    })
    chosen = retention.prunable(folded, cutoff=200, is_live=lambda rid: rid == "old-task")
    assert chosen == ["older", "old-done"]


def test_peer_policy() -> None:
    me = peercred.PeerCredentials(pid=1, uid=1000, gid=1000)
    other = peercred.PeerCredentials(pid=2, uid=2000, gid=3000)
    assert peercred.PeerPolicy(own_uid=1000).allows(other)  # no list configured: no check
    strict = peercred.PeerPolicy(allowed_uids=frozenset({5}), own_uid=1000)
    assert strict.allows(me) and not strict.allows(other)
    assert peercred.PeerPolicy(allowed_gids=frozenset({3000}), own_uid=1000).allows(other)
    assert "uid 2000 / gid 3000" in strict.refusal(other)
