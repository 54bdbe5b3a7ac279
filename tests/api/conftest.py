"""A daemon served in-process on a real Unix socket, with the scripted run lifecycle."""

from __future__ import annotations

import functools
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

from supervisor import config, daemon, sdnotify
from supervisor.api.client import AsyncSupervisorClient
from tests.api import fake_runs

MAX_REQUEST_BYTES = 64 * 1024
MAX_PROMPT_BYTES = 16 * 1024


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    # Unix socket paths are limited to 108 bytes: pytest's tmp_path can be longer.
    path = Path(tempfile.mkdtemp(prefix="pcs-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def settings(sock_dir: Path) -> config.DaemonConfig:
    return config.DaemonConfig(db_path=str(sock_dir / "events.db"),
                               socket_path=str(sock_dir / "api.sock"),
                               max_request_bytes=MAX_REQUEST_BYTES,
                               max_prompt_bytes=MAX_PROMPT_BYTES)


async def start_daemon(nursery: trio.Nursery, settings: config.DaemonConfig,
                       **options: object) -> daemon.Daemon:
    """Start ``serve`` in-process with the scripted runs and no systemd."""
    options.setdefault("run_body", fake_runs.scripted_run)
    options.setdefault("notifier", sdnotify.Notifier(None))
    options.setdefault("inherited_fds", [])
    options.setdefault("graceful_timeout", 0.5)
    started: daemon.Daemon = await nursery.start(
        functools.partial(daemon.serve, settings, **options))  # type: ignore[arg-type]
    return started


async def stop_daemon(running: daemon.Daemon) -> None:
    running.request_stop("test over")
    with trio.fail_after(10):
        await running.stopped.wait()


@pytest.fixture
async def running(nursery: trio.Nursery,
                  settings: config.DaemonConfig) -> AsyncIterator[daemon.Daemon]:
    started = await start_daemon(nursery, settings)
    yield started
    await stop_daemon(started)


@pytest.fixture
async def client(running: daemon.Daemon) -> AsyncIterator[AsyncSupervisorClient]:
    assert running.socket_path is not None
    async with AsyncSupervisorClient(running.socket_path) as api:
        yield api


def run_body(run_id: str, prompt: str = "say hi", **extra: object) -> dict[str, object]:
    return {"runId": run_id, "agent": {"id": "agent-7"}, "prompt": prompt, **extra}


async def wait_until(api: AsyncSupervisorClient, run_id: str,
                     condition: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """Poll the run until ``condition`` holds (bounded by fail_after)."""
    with trio.fail_after(10):
        while True:
            run = await api.get_run(run_id)
            if condition(run):
                return run
            await trio.sleep(0.01)


async def wait_for_phase(api: AsyncSupervisorClient, run_id: str, *phases: str) -> dict[str, Any]:
    """Poll the run until it reaches one of ``phases``."""
    return await wait_until(api, run_id, lambda run: run["phase"] in phases)


async def all_events(api: AsyncSupervisorClient, run_id: str | None,
                     **options: Any) -> list[dict[str, Any]]:
    """Every event of a (non-following) stream."""
    async with api.events(run_id, **options) as events:
        return await events.collect()
