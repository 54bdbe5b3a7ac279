"""The Messages API stub, and the real Claude Code CLI run fully offline against it.

The stub tests speak HTTP to it with httpx. The real-CLI tests run the pinned CLI from
tools/claude-cli (installed by tools/claude-cli/install.sh) with the environment
`kubesim.real_claude` gives pods, and assert on its stream-json; they are skipped only when
that install is missing. Each CLI run takes about half a second.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

from kubesim import real_claude
from kubesim.messages_stub import MessagesStub, Script, open_messages_stub

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "claude" / "real-cli"
STREAM = ["-p", "--output-format", "stream-json", "--verbose"]
SECRET = "sk-test-never-logged-0123456789"
CLI_LIMIT_S = 60

needs_cli = pytest.mark.skipif(
    real_claude.bin_dir() is None,
    reason=f"real Claude Code CLI not installed under {real_claude.cli_dir()}/node_modules "
    f"(run tools/claude-cli/install.sh)",
)


# --- helpers ----------------------------------------------------------------------------------


def sse_events(body: str) -> list[tuple[str, dict[str, Any]]]:
    """(event name, data) pairs from an SSE body."""
    events = []
    for frame in body.split("\n\n"):
        if not frame.strip():
            continue
        fields = dict(line.split(": ", 1) for line in frame.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


async def post_messages(base_url: str, messages: list[dict[str, Any]], *,
                        stream: bool = True) -> httpx.Response:
    body = {"model": "claude-opus-4-8", "max_tokens": 64000, "stream": stream,
            "messages": messages}
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        return await client.post("/v1/messages?beta=true", json=body,
                                 headers={"x-api-key": SECRET,
                                          "anthropic-version": "2023-06-01"})


def shape(value: Any) -> Any:
    """A value's structure: object keys (recursively), list element shapes, JSON kinds."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value[:1]]
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "null" if value is None else "string"


# --- the stub on its own ------------------------------------------------------------------------


def test_stub_public_surface_is_exactly_all() -> None:
    import kubesim.messages_stub as package

    modules = {"app", "cli", "replies", "server", "sse"}
    public = {name for name in vars(package) if not name.startswith("_")} - modules
    assert public == set(package.__all__)


async def test_text_reply_streams_the_api_event_sequence() -> None:
    async with open_messages_stub(Script.text("Hello there, this is a longer reply.")) as stub:
        response = await post_messages(stub.url, [{"role": "user", "content": "hi"}])

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["request-id"].startswith("req_")
    events = sse_events(response.text)
    names = [name for name, _ in events]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert all(name == data["type"] for name, data in events)
    deltas = [d["delta"]["text"] for n, d in events if n == "content_block_delta"]
    assert len(deltas) >= 2
    assert "".join(deltas) == "Hello there, this is a longer reply."
    start = events[0][1]["message"]
    assert (start["role"], start["content"], start["stop_reason"]) == ("assistant", [], None)
    final = events[-2][1]
    assert final["delta"]["stop_reason"] == "end_turn"
    assert final["usage"]["output_tokens"] > 0


async def test_tool_script_asks_for_bash_then_summarises_the_result() -> None:
    async with open_messages_stub(Script.tool("echo paperclip")) as stub:
        opening = await post_messages(stub.url, [{"role": "user", "content": "go"}])
        first = sse_events(opening.text)
        tool_use = next(d["content_block"] for n, d in first
                        if n == "content_block_start" and d["content_block"]["type"] == "tool_use")
        partial = "".join(d["delta"]["partial_json"] for n, d in first
                          if n == "content_block_delta" and d["index"] == 1)
        history: list[dict[str, Any]] = [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": tool_use["id"],
                                               "name": "Bash", "input": json.loads(partial)}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_use["id"],
                                          "content": "paperclip"}]},
        ]
        second = sse_events((await post_messages(stub.url, history)).text)

    assert tool_use["name"] == "Bash"
    assert json.loads(partial)["command"] == "echo paperclip"
    parts = [d for n, d in first if n == "content_block_delta" and d["index"] == 1]
    assert len(parts) >= 2, "tool input JSON arrives in several input_json_delta parts"
    assert first[-2][1]["delta"]["stop_reason"] == "tool_use"
    text = "".join(d["delta"]["text"] for n, d in second if n == "content_block_delta")
    assert text == "The command printed: paperclip"
    assert second[-2][1]["delta"]["stop_reason"] == "end_turn"


async def test_error_script_answers_with_the_api_error_body() -> None:
    async with open_messages_stub(Script.error(400, "stub: scripted bad request")) as stub:
        response = await post_messages(stub.url, [{"role": "user", "content": "hi"}])

    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "error"
    assert body["error"] == {"type": "invalid_request_error",
                             "message": "stub: scripted bad request"}
    assert body["request_id"].startswith("req_")


async def test_non_streaming_request_gets_the_whole_message() -> None:
    async with open_messages_stub(Script.text("hi")) as stub:
        response = await post_messages(stub.url, [{"role": "user", "content": "hi"}], stream=False)

    message = response.json()
    assert (message["type"], message["content"], message["stop_reason"]) == (
        "message", [{"type": "text", "text": "hi"}], "end_turn")


async def test_probe_unknown_path_and_bad_body_are_answered_and_recorded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with open_messages_stub(Script.text()) as stub:
        async with httpx.AsyncClient(base_url=stub.url, timeout=10) as client:
            head = await client.head("/")
            missing = await client.get("/v1/models", headers={"x-api-key": SECRET})
            bad = await client.post("/v1/messages", content=b"{not json",
                                    headers={"authorization": f"Bearer {SECRET}"})
        records = list(stub.requests)

    assert head.status_code == 200
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "not_found_error"
    assert bad.status_code == 400
    assert "bad request body" in bad.json()["error"]["message"]
    assert [(r.method, r.path, r.status) for r in records] == [
        ("HEAD", "/", 200), ("GET", "/v1/models", 404), ("POST", "/v1/messages", 400)]
    assert records[1].headers["x-api-key"] == "<redacted>"
    assert records[2].headers["authorization"] == "<redacted>"
    # The key never reaches a record or a log line.
    assert SECRET not in repr(records)
    assert SECRET not in caplog.text
    assert "GET /v1/models -> 404" in caplog.text


async def test_stub_refuses_a_non_loopback_address() -> None:
    with pytest.raises(ValueError, match="loopback only"):
        async with open_messages_stub(Script.text(), host="0.0.0.0"):
            pass  # pragma: no cover - never reached


async def test_stub_runs_as_a_process_and_stops_on_sigterm(tmp_path: Path) -> None:
    record = tmp_path / "requests.jsonl"
    command = [sys.executable, "-m", "kubesim.messages_stub", "--port", "0", "--scenario", "tool",
               "--command", "echo from-cli", "--record", str(record), "--lifetime", "60"]
    process = await trio.lowlevel.open_process(command, stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        with trio.fail_after(20):
            line = b""
            while not line.endswith(b"\n"):
                chunk = await process.stdout.receive_some(1)
                assert chunk, "stub exited before printing its address"
                line += chunk
            url = line.decode().strip()
            assert url.startswith("http://127.0.0.1:")
            response = await post_messages(url, [{"role": "user", "content": "go"}])
            process.send_signal(signal.SIGTERM)
            await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            with trio.CancelScope(shield=True):
                await process.wait()

    assert process.returncode == 0
    partial_json = "".join(d["delta"]["partial_json"] for n, d in sse_events(response.text)
                           if n == "content_block_delta" and d["index"] == 1)
    assert json.loads(partial_json)["command"] == "echo from-cli"
    [saved] = [json.loads(line) for line in record.read_text().splitlines()]
    assert (saved["method"], saved["path"], saved["query"]) == ("POST", "/v1/messages",
                                                               "beta=true")
    assert saved["headers"]["x-api-key"] == "<redacted>"
    assert SECRET not in record.read_text()


# --- the real CLI -------------------------------------------------------------------------------


async def _kill_group(process: trio.Process) -> None:
    # The CLI starts helpers (git, rg, ps); take the whole group down with it.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


class CliRun:
    def __init__(self, returncode: int, stdout: bytes, stderr: bytes) -> None:
        self.returncode = returncode
        self.stderr = stderr.decode(errors="replace")
        self.records = [json.loads(line) for line in stdout.splitlines() if line.strip()]

    @property
    def types(self) -> list[str]:
        return [r["type"] for r in self.records]

    def result(self) -> dict[str, Any]:
        results: list[dict[str, Any]] = [r for r in self.records if r["type"] == "result"]
        assert len(results) == 1, f"expected one result record, got {len(results)}"
        return results[0]


async def run_cli(stub: MessagesStub, prompt: str, *args: str, home: Path, cwd: Path,
                  max_retries: int | None = None) -> CliRun:
    """Run the real CLI with `prompt` on stdin, against `stub`, in a minimal environment."""
    cli = real_claude.real_claude(stub.url, home=home, max_retries=max_retries)
    env = {"PATH": f"{cli.bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
           **cli.env}
    with trio.fail_after(CLI_LIMIT_S):
        done = await trio.run_process([str(cli.executable), *args], stdin=prompt.encode(),
                                      capture_stdout=True, capture_stderr=True, check=False,
                                      env=env, cwd=cwd, start_new_session=True,
                                      deliver_cancel=_kill_group)
    return CliRun(done.returncode, done.stdout, done.stderr)


def fixture_records(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (FIXTURES / name).read_text().splitlines()]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "workspace"
    path.mkdir()
    return path


def test_pod_environment_keeps_the_cli_offline(tmp_path: Path) -> None:
    env = real_claude.offline_env("http://127.0.0.1:4010", home=tmp_path)

    assert env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:4010"
    assert env["ANTHROPIC_API_KEY"] == "dummy"
    assert env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"
    assert env["IS_SANDBOX"] == "1"
    assert env["HOME"] == str(tmp_path)
    assert {"DISABLE_TELEMETRY", "DISABLE_ERROR_REPORTING", "DISABLE_AUTOUPDATER"} <= set(env)


def test_missing_install_is_reported_with_the_fix(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(real_claude.CLI_DIR_ENV, str(tmp_path))

    assert real_claude.bin_dir() is None
    with pytest.raises(real_claude.RealClaudeUnavailable, match="install.sh"):
        real_claude.real_claude("http://127.0.0.1:1")


@needs_cli
async def test_real_cli_text_run(home: Path, workspace: Path) -> None:
    async with open_messages_stub(Script.text("hi")) as stub:
        run = await run_cli(stub, "say hi", *STREAM, home=home, cwd=workspace)
        requests = stub.message_requests()

    assert run.returncode == 0, run.stderr
    assert run.types == ["system", "assistant", "result"]
    init, result = run.records[0], run.result()
    assert (init["claude_code_version"], init["apiKeySource"]) == (real_claude.PINNED_VERSION,
                                                                   "ANTHROPIC_API_KEY")
    assert (result["subtype"], result["is_error"], result["result"]) == ("success", False, "hi")
    assert result["usage"]["output_tokens"] > 0 and result["total_cost_usd"] > 0
    assert result["session_id"] == init["session_id"]
    # The CLI still prints what the committed fixture (and so the fake's comparison) shows.
    assert [shape(r) for r in run.records] == [shape(r) for r in fixture_records("text.jsonl")]
    [request] = requests
    assert request.query == "beta=true"
    assert request.headers["x-api-key"] == "<redacted>"
    assert request.body["stream"] is True


@needs_cli
async def test_real_cli_tool_turn_then_resume(home: Path, workspace: Path) -> None:
    async with open_messages_stub(Script.tool("echo from-the-stub")) as stub:
        tool_run = await run_cli(stub, "run the command", *STREAM,
                                 "--dangerously-skip-permissions", home=home, cwd=workspace)
        tool_requests = len(stub.message_requests())
        session = tool_run.records[0]["session_id"]
        resumed = await run_cli(stub, "and again", *STREAM, "--dangerously-skip-permissions",
                                "--resume", session, home=home, cwd=workspace)
        resume_request = stub.message_requests()[tool_requests]

    assert tool_run.returncode == 0, tool_run.stderr
    assert tool_run.types == ["system", "assistant", "assistant", "user", "assistant", "result"]
    assert tool_run.records[0]["permissionMode"] == "bypassPermissions"
    # The CLI really ran the Bash command the stub asked for.
    tool_result = tool_run.records[3]["message"]["content"][0]
    assert (tool_result["content"], tool_result["is_error"]) == ("from-the-stub", False)
    result = tool_run.result()
    assert (result["result"], result["num_turns"]) == ("The command printed: from-the-stub", 2)
    assert tool_requests == 2

    assert resumed.returncode == 0, resumed.stderr
    assert resumed.records[0]["session_id"] == session
    assert resumed.result()["session_id"] == session
    # On resume the CLI resends the earlier conversation before the new prompt.
    assert len(resume_request.body["messages"]) > 1


@needs_cli
async def test_real_cli_resume_from_another_directory_is_an_unknown_session(
    home: Path, workspace: Path, tmp_path: Path
) -> None:
    async with open_messages_stub(Script.text("hi")) as stub:
        first = await run_cli(stub, "say hi", *STREAM, home=home, cwd=workspace)
        session = first.records[0]["session_id"]
        lost = await run_cli(stub, "again", *STREAM, "--resume", session, home=home,
                             cwd=tmp_path)

    assert lost.returncode == 1
    assert lost.types == ["result"]
    assert (lost.result()["subtype"], lost.result()["is_error"]) == ("error_during_execution",
                                                                     True)
    assert f"No conversation found with session ID: {session}" in lost.stderr


@needs_cli
async def test_real_cli_api_error(home: Path, workspace: Path) -> None:
    async with open_messages_stub(Script.error(400, "stub: scripted bad request")) as stub:
        run = await run_cli(stub, "say hi", *STREAM, home=home, cwd=workspace)

    assert run.returncode == 1
    assert run.types == ["system", "assistant", "result"]
    result = run.result()
    assert (result["subtype"], result["is_error"], result["api_error_status"]) == (
        "success", True, 400)
    assert result["result"] == "API Error: 400 stub: scripted bad request"
    assert [shape(r) for r in run.records] == [shape(r) for r in
                                               fixture_records("api-error400.jsonl")]


@needs_cli
async def test_real_cli_server_error_fails_at_once_without_retries(home: Path,
                                                                   workspace: Path) -> None:
    async with open_messages_stub(Script.error(500, "stub: scripted outage")) as stub:
        run = await run_cli(stub, "say hi", *STREAM, home=home, cwd=workspace, max_retries=0)
        requests = stub.message_requests()

    assert run.returncode == 1
    assert (run.result()["is_error"], run.result()["api_error_status"]) == (True, 500)
    assert len(requests) == 1
