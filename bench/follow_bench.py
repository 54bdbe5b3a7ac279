"""Log follow: how fast one run's output flows pod → daemon → event log → socket client.

Throughput. The daemon is paused (SIGSTOP) as soon as the run's pod exists, the pod prints
its whole output, and first a plain httpx reader takes the complete log straight from
kubesim (the baseline: the API server's own rate), then the daemon is resumed and a socket
client follows the run from the start. The supervisor's figure is lines received by the
socket client over the time from resuming to the last line: the pod has already finished,
so what is measured is the daemon's rate, never the pod's.

Latency. A second run prints at a steady pace while a socket client follows it live, and a
plain httpx reader follows the same pod straight from kubesim. Each line's latency is the
time the reader received it minus the kubelet's timestamp for it (the moment kubesim read
the line's newline from the container's pipe): the supervisor side matches lines to
kubesim's ground truth by position. Lines printed before a reader had received its first
line are left out (that is start-up, not steady following).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
import trio

from bench import report, rig
from bench.report import Row
from supervisor.k8s import logtime

FOLLOW_LINES = 60_000
LATENCY_LINES = 1_500
LATENCY_PACE_MS = 10
THROUGHPUT_TARGET = 0.80
LATENCY_TARGET_MS = 100.0


@dataclass(frozen=True)
class Sizes:
    """How much each part prints (scaled down by ``--quick``)."""

    follow_lines: int = FOLLOW_LINES
    latency_lines: int = LATENCY_LINES
    latency_pace_ms: int = LATENCY_PACE_MS


def _log_path(pod: str) -> str:
    return f"/api/v1/namespaces/{rig.NAMESPACE}/pods/{pod}/log"


async def _wait_pod(sim: rig.Kubesim, *, limit: float = 60.0) -> str:
    """The name of the first pod in the namespace, as soon as it exists."""
    with trio.move_on_after(limit):
        while True:
            pods = await sim.pods()
            if pods:
                return str(pods[0]["metadata"]["name"])
            await trio.sleep(0.005)
    raise rig.RigError(f"no pod appeared within {limit:.0f}s")


async def _wait_container(sim: rig.Kubesim, pod: str, *states: str, limit: float) -> None:
    """Wait until the pod's claude container is in one of ``states``."""
    with trio.move_on_after(limit):
        while True:  # kubesim is another process: polled over its API
            if rig.container_state(await sim.pod(pod)) in states:
                return
            await trio.sleep(0.02)
    raise rig.RigError(f"pod {pod}: container not {' or '.join(states)} within {limit:.0f}s")


async def _raw_read(sim: rig.Kubesim, pod: str) -> tuple[int, int, float]:
    """Read the whole finished log from kubesim; returns (lines, bytes, seconds)."""
    params = {"container": rig.CONTAINER, "follow": "true", "timestamps": "true"}
    lines = size = 0
    async with httpx.AsyncClient(base_url=sim.url, trust_env=False, timeout=None) as http:
        began = time.perf_counter()
        async with http.stream("GET", _log_path(pod), params=params) as response:
            async for chunk in response.aiter_bytes():
                lines += chunk.count(b"\n")
                size += len(chunk)
        return lines, size, time.perf_counter() - began


async def _follow_client(r: rig.Rig, run_id: str, *, since: float) -> tuple[int, int, float]:
    """Follow the run's events to the end, counting the output of chunks made at or after
    ``since`` (wall clock); returns (lines, text bytes, perf_counter of the last line)."""
    lines = size = 0
    last = 0.0
    async with r.client() as client, client.events(run_id, follow=True) as stream:
        async for event in stream:
            if event["kind"] == "log.chunk" and event["ts"] >= since:
                lines += event["lines"]
                size += event["nbytes"]
                last = time.perf_counter()
            elif event["kind"] == "run.finished":
                break
    return lines, size, last


async def throughput(r: rig.Rig, lines: int) -> list[Row]:
    """Supervisor vs raw kubesim rate for one run's complete output."""
    run_id = "follow-throughput"
    await r.submit(run_id, rig.chatty(lines), agent="agent-follow")
    # Paused once the daemon has seen the pod running; the fake claude is still starting up.
    # (Pausing earlier, while the pod is pending, can make the daemon see the Job complete
    # before the pod ran, and then it never reads the output: an informer race.)
    await r.wait_runs([run_id], what="running", limit=60.0, poll=0.005,
                      ready=lambda run: run["phase"] == "running")
    pod = (await r.runs())[run_id]["podName"]
    r.daemon.pause()
    try:
        await _wait_container(r.kubesim, pod, "terminated", limit=120.0)
        raw_lines, raw_bytes, raw_seconds = await _raw_read(r.kubesim, pod)
    finally:
        resumed_wall, resumed = time.time(), time.perf_counter()
        r.daemon.resume()
    got_lines, got_bytes, last = await _follow_client(r, run_id, since=resumed_wall)
    final = (await r.runs())[run_id]
    if final["outputLines"] != raw_lines or final["phase"] != "succeeded":
        raise rig.RigError(f"run {run_id} ended {final['phase']} with {final['outputLines']} "
                           f"lines in the log; kubesim served {raw_lines}")
    if got_lines < raw_lines // 2:
        raise rig.RigError(f"only {got_lines} of {raw_lines} lines were left to follow after "
                           "the pause; use more lines")
    seconds = last - resumed
    sup_rate, raw_rate = got_lines / seconds, raw_lines / raw_seconds
    ratio = sup_rate / raw_rate
    line_bytes = got_bytes / got_lines
    return [
        Row("follow", f"log follow, one run, {raw_lines:,} lines of {line_bytes:.0f} B",
            f"{sup_rate:,.0f} lines/s, {sup_rate * line_bytes / 1e6:.1f} MB/s",
            f">= {THROUGHPUT_TARGET:.0%} of raw", report.verdict(ratio >= THROUGHPUT_TARGET),
            f"{ratio:.0%} of kubesim -> plain httpx ({raw_rate:,.0f} lines/s, "
            f"{raw_rate * line_bytes / 1e6:.1f} MB/s); {got_lines:,} lines in {seconds:.2f} s "
            f"vs {raw_seconds:.2f} s"),
    ]


async def _raw_latencies(sim: rig.Kubesim, pod: str, latencies: list[float]) -> None:
    """Follow the pod straight from kubesim, timing each line against its timestamp."""
    params = {"container": rig.CONTAINER, "follow": "true", "timestamps": "true"}
    first_received = 0
    async with httpx.AsyncClient(base_url=sim.url, trust_env=False, timeout=None) as http, \
            http.stream("GET", _log_path(pod), params=params) as response:
        async for line in response.aiter_lines():
            now = time.time_ns()
            stamp, _ = logtime.split_line(line.encode())
            ns = logtime.parse_ns(stamp)
            first_received = first_received or now
            if ns >= first_received:
                latencies.append((now - ns) / 1e6)


async def latency(r: rig.Rig, lines: int, pace_ms: int) -> list[Row]:
    """End-to-end latency from the pod printing a line to the socket client receiving it."""
    run_id = "follow-latency"
    received: list[tuple[int, int]] = []  # (lines so far, receive time ns) per chunk
    raw: list[float] = []
    await r.submit(run_id, rig.chatty(lines, pace_ms=pace_ms), agent="agent-latency")
    async with trio.open_nursery() as nursery:
        async def socket_client() -> None:
            count = 0
            async with r.client() as client, client.events(run_id, follow=True) as stream:
                async for event in stream:
                    if event["kind"] == "log.chunk":
                        count += event["lines"]
                        received.append((count, time.time_ns()))
                    elif event["kind"] == "run.finished":
                        return

        nursery.start_soon(socket_client)
        pod = await _wait_pod(r.kubesim)  # this rig runs nothing else
        await _wait_container(r.kubesim, pod, "running", "terminated", limit=60.0)
        nursery.start_soon(_raw_latencies, r.kubesim, pod, raw)
    truth = await r.kubesim.output(pod)
    if not received or received[-1][0] != len(truth):
        raise rig.RigError(f"the socket client got {received[-1][0] if received else 0} lines, "
                           f"the pod printed {len(truth)}")
    every: list[float] = []
    steady: list[float] = []
    index = 0
    for count, at in received:
        for line in truth[index:count]:
            every.append((at - line["ts_ns"]) / 1e6)
            if line["ts_ns"] >= received[0][1]:
                steady.append(every[-1])
        index = count
    sup = steady or every  # a run so short that one chunk held it all: start-up included
    p99 = report.percentile(sup, 99)
    baseline = (f"p50 {report.percentile(raw, 50):.1f} ms, p99 {report.percentile(raw, 99):.1f} ms"
                if raw else "no line after it attached")
    return [Row(
        "follow", f"latency pod print -> socket client, {lines:,} lines at {1000 / pace_ms:.0f}/s",
        f"p50 {report.percentile(sup, 50):.1f} ms, p99 {p99:.1f} ms",
        f"p99 < {LATENCY_TARGET_MS:.0f} ms", report.verdict(p99 < LATENCY_TARGET_MS),
        f"max {max(sup):.1f} ms over {len(sup):,} lines"
        f"{'' if steady else ' (start-up included)'}; kubesim -> plain httpx: {baseline}")]


async def run(sizes: Sizes, options: rig.RigOptions) -> list[Row]:
    """Both follow figures, each with its own simulator and daemon."""
    rows: list[Row] = []
    async with rig.open_rig(options) as r:
        rows += await throughput(r, sizes.follow_lines)
    async with rig.open_rig(options) as r:
        rows += await latency(r, sizes.latency_lines, sizes.latency_pace_ms)
    return rows
