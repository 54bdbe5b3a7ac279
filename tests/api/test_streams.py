"""NDJSON event streams: exact text, follow, reconnect by seq, keepalives, stuck clients."""

from __future__ import annotations

import socket

import trio

from events import EventStore
from supervisor.api.client import AsyncSupervisorClient
from supervisor.daemon import Daemon
from tests.api import fake_runs
from tests.api.conftest import all_events as _all
from tests.api.conftest import run_body, wait_for_phase, wait_until


async def test_log_events_carry_stream_and_the_exact_lines(client: AsyncSupervisorClient) -> None:
    await client.start_run(run_body("r-text"))
    await wait_for_phase(client, "r-text", "succeeded")
    events = await _all(client, "r-text")
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert {e["runId"] for e in events} == {"r-text"}
    chunks = [e for e in events if e["kind"] == "log.chunk"]
    assert all(e["stream"] == "stdout" and e["text"].endswith("\n") for e in chunks)
    assert "".join(e["text"] for e in chunks).encode() == fake_runs.TRANSCRIPT.read_bytes()
    assert events[-1]["kind"] == "run.finished" and events[-1]["phase"] == "succeeded"
    only_logs = await _all(client, "r-text", kinds=("log.chunk",))
    assert only_logs == chunks


async def test_follow_reconnects_by_seq_with_no_duplicate_and_no_gap(
        running: Daemon, client: AsyncSupervisorClient) -> None:
    await client.start_run(run_body("r-f", prompt="hold tick lines=3"))
    seen: list[dict[str, object]] = []
    # First connection: read until keepalives flow (the run is quiet but alive), then drop it.
    async with client.events("r-f", follow=True) as first:
        async for event in first:
            seen.append(event)
            if sum(e["kind"] == "keepalive.ticked" for e in seen) >= 3:
                break
    fake_runs.release("r-f")
    # Second connection resumes after the last seq seen and ends after run.finished.
    last = seen[-1]["seq"]
    assert isinstance(last, int)
    with trio.fail_after(10):
        async with client.events("r-f", after=last, follow=True) as second:
            seen.extend(await second.collect())
    assert seen[-1]["kind"] == "run.finished"
    with EventStore.open_readonly(running.supervisor.log.path) as log:
        expected = [s.seq for s in log.read(0, run_id="r-f")]
    assert [e["seq"] for e in seen] == expected
    texts = "".join(str(e["text"]) for e in seen if e["kind"] == "log.chunk")
    assert texts.count("plain line") == 3


async def test_daemon_wide_stream_follows_every_run(client: AsyncSupervisorClient) -> None:
    got: list[dict[str, object]] = []

    async def follow_all() -> None:
        async with client.events(None, follow=True, kinds=("run.finished",)) as events:
            async for event in events:
                got.append(event)
                if len(got) == 2:
                    return

    async with trio.open_nursery() as nursery:
        nursery.start_soon(follow_all)
        await client.start_run(run_body("r-a"))
        await client.start_run(run_body("r-b", prompt="fail"))
    assert sorted((e["runId"], e["phase"]) for e in got) == [("r-a", "succeeded"),
                                                             ("r-b", "failed")]
    everything = await _all(client, None)
    assert everything[0]["kind"] == "supervisor.started"
    assert [e["seq"] for e in everything] == list(range(1, len(everything) + 1))


async def test_bad_stream_queries_are_400(client: AsyncSupervisorClient) -> None:
    await client.start_run(run_body("r-q"))
    for params, field in (({"after": "-1"}, "after"), ({"follow": "maybe"}, "follow"),
                          ({"kinds": "log.chunk,nope"}, "kinds")):
        response = await client._http.get("/v1/runs/r-q/events", params=params)
        assert response.status_code == 400 and response.json()["error"]["field"] == field


async def test_a_stuck_client_slows_nobody_and_cannot_block_the_stop(
        running: Daemon, client: AsyncSupervisorClient) -> None:
    assert running.socket_path is not None
    await client.start_run(run_body("r-big", prompt="hold tick lines=4000"))
    await wait_until(client, "r-big", lambda run: run["outputLines"] >= 4002)
    stuck = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.connect(running.socket_path)
    stuck.sendall(b"GET /v1/runs/r-big/events?follow=1 HTTP/1.1\r\nhost: x\r\n\r\n")
    try:
        # It never reads. Others still get everything, and new runs still start.
        await client.start_run(run_body("r-other"))
        await wait_for_phase(client, "r-other", "succeeded")
        lines = await _all(client, "r-big", kinds=("log.chunk",))
        assert sum("plain line" in str(e["text"]) for e in lines) == 4000
        fake_runs.release("r-big")
        await wait_for_phase(client, "r-big", "succeeded")
        with trio.fail_after(8):
            running.request_stop("test: stop with a stuck client")
            await running.stopped.wait()
        assert running.server.severed >= 1
    finally:
        stuck.close()
