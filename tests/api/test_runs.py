"""The run endpoints over a real Unix socket: create, read, filter, result, cancel, errors."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator

import httpx
import pytest
import trio

from supervisor import config
from supervisor.api import errors
from supervisor.api.client import AsyncSupervisorClient
from tests.api import fake_runs
from tests.api.conftest import (
    MAX_PROMPT_BYTES,
    MAX_REQUEST_BYTES,
    run_body,
    start_daemon,
    stop_daemon,
    wait_for_phase,
)
from tests.api.conftest import all_events as _all


async def test_post_creates_then_is_idempotent_and_conflicts_on_a_different_body(
        client: AsyncSupervisorClient) -> None:
    run, created = await client.start_run(run_body("r-1"))
    assert created and run["runId"] == "r-1" and run["agentId"] == "agent-7"
    # Same body (other key order and spacing): the same run, 200, no second Job.
    again, created_again = await client.start_run(
        b'{"prompt": "say hi",   "agent": {"id": "agent-7"}, "runId": "r-1"}')
    assert not created_again and again["runId"] == "r-1"
    with pytest.raises(errors.ApiError) as conflict:
        await client.start_run(run_body("r-1", prompt="something else"))
    assert conflict.value.status == 409 and conflict.value.code == "run_conflict"
    done = await wait_for_phase(client, "r-1", "succeeded")
    jobs = [e for e in await _all(client, "r-1") if e["kind"] == "job.created"]
    assert len(jobs) == 1 and done["jobName"] == jobs[0]["jobName"]


async def test_run_state_fields_and_list_filters(client: AsyncSupervisorClient) -> None:
    await client.start_run(run_body("r-ok"))
    await client.start_run({**run_body("r-held", prompt="hold"), "agent": {"id": "agent-9"}})
    done = await wait_for_phase(client, "r-ok", "succeeded")
    assert set(done) >= {"runId", "agentId", "taskKey", "sessionId", "phase", "jobName",
                         "namespace", "podName", "createdAt", "updatedAt", "lastOutputAt",
                         "lastKeepaliveAt", "exitCode", "errorCode", "errorMessage", "lastSeq"}
    assert done["exitCode"] == 0 and done["podName"].startswith(done["jobName"])
    await wait_for_phase(client, "r-held", "running")
    assert [r["runId"] for r in await client.list_runs()] == ["r-ok", "r-held"]
    assert [r["runId"] for r in await client.list_runs(agent="agent-9")] == ["r-held"]
    assert [r["runId"] for r in await client.list_runs(active=True)] == ["r-held"]
    assert [r["runId"] for r in await client.list_runs(active=False)] == ["r-ok"]
    assert [r["runId"] for r in await client.list_runs(phase="succeeded,failed")] == ["r-ok"]
    with pytest.raises(errors.ApiError) as bad:
        await client.list_runs(phase="finished")
    assert bad.value.status == 400 and bad.value.field == "phase"
    fake_runs.release("r-held")
    await wait_for_phase(client, "r-held", "succeeded")


async def test_result_is_409_until_terminal_then_has_paperclips_fields(
        client: AsyncSupervisorClient) -> None:
    await client.start_run(run_body("r-res", prompt="hold"))
    await wait_for_phase(client, "r-res", "running")
    with pytest.raises(errors.ApiError) as early:
        await client.result("r-res")
    assert early.value.status == 409 and early.value.code == "run_not_terminal"
    fake_runs.release("r-res")
    await wait_for_phase(client, "r-res", "succeeded")
    result = await client.result("r-res")
    expected = json.loads(fake_runs.transcript_lines()[-1])
    assert result["exitCode"] == 0 and result["timedOut"] is False
    assert result["sessionId"] == expected["session_id"]
    assert result["costUsd"] == expected["total_cost_usd"] and result["summary"] == "hi"
    assert result["usage"] == expected["usage"] and result["resultJson"] == expected
    assert {"signal", "errorCode", "errorMessage", "model", "clearSession"} <= set(result)


async def test_failed_run_result_carries_its_error(client: AsyncSupervisorClient) -> None:
    await client.start_run(run_body("r-fail", prompt="fail"))
    run = await wait_for_phase(client, "r-fail", "failed")
    assert run["errorCode"] == "claude_failed" and run["exitCode"] == 1
    result = await client.result("r-fail")
    assert result["exitCode"] == 1 and result["errorCode"] == "claude_failed"


async def test_cancel_is_recorded_once_and_ends_the_run(client: AsyncSupervisorClient) -> None:
    await client.start_run(run_body("r-c", prompt="hold"))
    await wait_for_phase(client, "r-c", "running")
    first = await client.cancel("r-c", reason="operator said so")
    assert first["cancelRequested"] is True
    await client.cancel("r-c")
    run = await wait_for_phase(client, "r-c", "cancelled")
    await client.cancel("r-c")  # terminal: still 200, nothing new recorded
    cancels = await _all(client, "r-c", kinds=("cancel.requested",))
    assert [c["reason"] for c in cancels] == ["operator said so"]
    assert cancels[0]["requestedBy"] == "api" and run["errorCode"] == "cancelled"


async def test_unknown_runs_paths_and_methods(client: AsyncSupervisorClient) -> None:
    for call in (client.get_run("nope"), client.result("nope"), client.cancel("nope")):
        with pytest.raises(errors.ApiError) as missing:
            await call
        assert missing.value.status == 404 and missing.value.code == "run_not_found"
    with pytest.raises(errors.ApiError) as events_missing:
        await _all(client, "nope")
    assert events_missing.value.status == 404
    raw = client._http
    gone = await raw.get("/v1/nowhere")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
    wrong = await raw.delete("/v1/runs")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST, GET"
    typo = await raw.get("/v1/runs", params={"agnet": "x"})
    assert typo.status_code == 400 and typo.json()["error"]["field"] == "agnet"


@pytest.mark.parametrize("body, field, fragment", [
    (b'{"runId": "r", "agent": {"id": "a"}, "prompt": ', "(body)", "not valid JSON"),
    (b'["a list"]', "(body)", "expected a JSON object"),
    (b'{"runId": "r", "agent": {"id": 7}, "prompt": "p"}', "agent.id", "expected `str`, got 7"),
    (b'{"runId": "r", "agent": {"id": "a"}, "prompt": "p", "timeoutSec": "soon"}',
     "timeoutSec", "expected `int | null`, got 'soon'"),
    (b'{"runId": "r", "agent": {"id": "a"}, "prompt": "p", "bogus": 1}', "bogus", "unknown field"),
    (b'{"runId": "r", "agent": {"id": "a", "nmae": "x"}, "prompt": "p"}', "agent.nmae",
     "unknown field"),
    (b'{"agent": {"id": "a"}, "prompt": "p"}', "runId", "required field is missing"),
])
async def test_bad_bodies_are_400_naming_the_field(client: AsyncSupervisorClient, body: bytes,
                                                   field: str, fragment: str) -> None:
    response = await client._http.post("/v1/runs", content=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] in ("invalid_request",) and error["field"] == field
    assert fragment in error["message"]
    assert await client.list_runs() == []


async def test_huge_bodies_and_prompts_are_413(client: AsyncSupervisorClient) -> None:
    huge = json.dumps(run_body("r-big", prompt="x" * (MAX_REQUEST_BYTES + 1))).encode()
    response = await client._http.post("/v1/runs", content=huge)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "body_too_large" and str(MAX_REQUEST_BYTES) in error["message"]

    # Same, with no Content-Length (chunked upload): the cap holds while reading.
    async def chunks() -> object:
        for _ in range(MAX_REQUEST_BYTES // 1000 + 2):
            yield b" " * 1000
    chunked = await client._http.post("/v1/runs", content=chunks())  # type: ignore[arg-type]
    assert chunked.status_code == 413

    big_prompt = run_body("r-prompt", prompt="y" * (MAX_PROMPT_BYTES + 1))
    response = await client._http.post("/v1/runs", json=big_prompt)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "prompt_too_large" and error["field"] == "prompt"
    assert f"exceeds the limit of {MAX_PROMPT_BYTES} bytes" in error["message"]
    assert await client.list_runs() == []


async def test_version_health_and_metrics(client: AsyncSupervisorClient) -> None:
    version = await client.version()
    assert version["api"] == "v1" and version["eventSchema"] == 1
    health = await client.health()
    assert health["ok"] is True and health["db"]["ok"] is True and health["activeRuns"] == 0
    await client.start_run(run_body("r-m"))
    await wait_for_phase(client, "r-m", "succeeded")
    text = await client.metrics()
    assert 'paperclip_supervisor_runs{phase="succeeded"} 1' in text
    assert 'paperclip_supervisor_runs{phase="running"} 0' in text
    assert "# TYPE paperclip_supervisor_append_seconds summary" in text
    count = next(line for line in text.splitlines()
                 if line.startswith("paperclip_supervisor_append_seconds_count"))
    assert int(count.split()[1]) >= 1
    for family in ("events_appended_total", "log_reconnects_total", "log_gaps_total",
                   "api_follow_lag_events", "api_streams_open"):
        assert f"\npaperclip_supervisor_{family} " in text


async def test_body_of_the_request_is_kept_with_the_run(client: AsyncSupervisorClient) -> None:
    body = run_body("r-body", env={"MODE": "ci"}, secretEnv={"TOKEN": {"secret": "s", "key": "k"}})
    await client.start_run(body)
    requested = await _all(client, "r-body", kinds=("run.requested",))
    assert requested[0]["agentId"] == "agent-7" and requested[0]["promptBytes"] == 6


async def test_health_reports_an_unreachable_cluster_as_503(
        nursery: trio.Nursery, settings: config.DaemonConfig) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    @contextlib.asynccontextmanager
    async def broken_cluster(_: config.DaemonConfig) -> AsyncIterator[httpx.AsyncClient]:
        async with httpx.AsyncClient(base_url="https://cluster.invalid",
                                     transport=httpx.MockTransport(refuse)) as kube:
            yield kube

    running = await start_daemon(nursery, settings, kube_client_factory=broken_cluster)
    assert running.socket_path is not None
    async with AsyncSupervisorClient(running.socket_path) as api:
        response = await api._http.get("/v1/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["ok"] is False and body["db"]["ok"] is True
    assert body["cluster"]["ok"] is False and "unreachable" in body["cluster"]["detail"]
    await stop_daemon(running)
