"""The real Claude Code CLI in the pods: socket → daemon → kubesim pod running the pinned
``claude`` → event log, with the Messages API answered by the loopback stub.

kubesim puts the real CLI first on every container's PATH (no fake ``claude`` at all) and adds
the stub's URL, a key and the offline switches through its ``extra_env``, so none of it is in
the run request or the Job. The pods get the workspace from a PersistentVolumeClaim backed by a
test directory; the supervisor sets HOME and the working directory to its mount path, which is
where the CLI keeps its sessions, so a second run can resume the first one's. Skipped only when
tools/claude-cli/node_modules is missing (``tools/claude-cli/install.sh`` installs it).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio

from kubesim import real_claude
from kubesim.messages_stub import MessagesStub, Script, open_messages_stub
from tests.lifecycle.harness import Rig, rig

pytestmark = pytest.mark.skipif(
    real_claude.bin_dir() is None,
    reason=f"real Claude Code CLI not installed under {real_claude.cli_dir()}/node_modules "
    "(run tools/claude-cli/install.sh)")

CLAIM = "paperclip-workspace"
RUN_LIMIT = 60  # the CLI itself takes about half a second; a loaded CI machine much longer


@asynccontextmanager
async def real_cli_rig(volume: Path, script: Script, api_key: str) -> AsyncIterator[
        tuple[Rig, MessagesStub]]:
    """A stub answering ``script`` and a rig whose pods run the real CLI against it."""
    await trio.Path(volume).mkdir(parents=True, exist_ok=True)
    async with open_messages_stub(script) as stub:
        cli = real_claude.real_claude(stub.url)
        pod_env = {**cli.env, "ANTHROPIC_API_KEY": api_key}
        sim_options = {"path_prepend": [cli.bin_dir], "claude_shim": False,
                       "extra_env": pod_env, "pvc_dirs": {CLAIM: volume}}
        async with rig(sim_options=sim_options, agent={"workspaceVolumeClaim": CLAIM}) as r:
            yield r, stub


def fresh_key() -> str:
    """A key value unique to one test, so finding it anywhere can only mean it leaked."""
    return f"sk-ant-api03-test-{uuid.uuid4().hex}"


def records(r: Rig, run_id: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in r.transcript(run_id).splitlines() if line.strip()]


def assert_exact(r: Rig, run_id: str, final: dict[str, Any]) -> None:
    assert final["podName"], final
    assert r.transcript(run_id) == r.printed(final["podName"]), r.dump(run_id)


def assert_key_never_logged(r: Rig, api_key: str) -> None:
    """No byte of the event log (database, WAL and all) holds the key."""
    files = list(Path(r.settings.db_path).parent.glob(Path(r.settings.db_path).name + "*"))
    assert files
    for path in files:
        assert api_key.encode() not in path.read_bytes(), f"the API key leaked into {path}"


async def test_a_text_run(tmp_path: Path) -> None:
    key = fresh_key()
    async with real_cli_rig(tmp_path / "volume", Script.text("Hello from the stub."), key) as (
            r, stub):
        await r.start("run-text", "say hello")
        final = await r.wait_finished("run-text", RUN_LIMIT)
        assert (final["phase"], final["errorCode"], final["exitCode"]) == (
            "succeeded", None, 0), r.dump("run-text")
        assert_exact(r, "run-text", final)
        init, *_, last = records(r, "run-text")
        # The real CLI ran, with the key the pod was given, against the stub.
        assert (init["type"], init["subtype"]) == ("system", "init")
        assert init["claude_code_version"] == real_claude.PINNED_VERSION
        assert init["apiKeySource"] == "ANTHROPIC_API_KEY"
        assert init["permissionMode"] == "bypassPermissions"
        assert (last["type"], last["result"]) == ("result", "Hello from the stub.")
        result = await r.client.result("run-text")
        assert result["sessionId"] == init["session_id"]
        assert result["summary"] and "Hello from the stub." in result["summary"]
        [request] = stub.message_requests()
        prompts = [m["content"] for m in request.body["messages"] if m["role"] == "user"]
        assert "say hello" in json.dumps(prompts)
        assert_key_never_logged(r, key)


async def test_a_tool_turn_then_a_resume_of_its_session(tmp_path: Path) -> None:
    key, volume = fresh_key(), tmp_path / "volume"
    async with real_cli_rig(volume, Script.tool("echo ran-in-the-pod"), key) as (r, stub):
        await r.start("run-tool", "run the command")
        first = await r.wait_finished("run-tool", RUN_LIMIT)
        assert (first["phase"], first["errorCode"], first["exitCode"]) == (
            "succeeded", None, 0), r.dump("run-tool")
        assert_exact(r, "run-tool", first)
        kinds = [(rec["type"], rec.get("subtype")) for rec in records(r, "run-tool")]
        assert kinds == [("system", "init"), ("assistant", None), ("assistant", None),
                         ("user", None), ("assistant", None), ("result", "success")]
        # The CLI really ran Bash in the pod and the model saw what it printed.
        tool_result = records(r, "run-tool")[3]["message"]["content"][0]
        assert (tool_result["content"], tool_result["is_error"]) == ("ran-in-the-pod", False)
        session = (await r.client.result("run-tool"))["sessionId"]
        assert session
        # The session lives on the workspace volume (HOME), so it outlives the pod.
        assert list(volume.glob(f".claude/projects/*/{session}.jsonl"))
        requests_before = len(stub.message_requests())

        await r.start("run-resume", "and once more", sessionId=session)
        resumed = await r.wait_finished("run-resume", RUN_LIMIT)
        assert (resumed["phase"], resumed["errorCode"], resumed["exitCode"]) == (
            "succeeded", None, 0), r.dump("run-resume")
        assert_exact(r, "run-resume", resumed)
        [(built, _)] = r.events("run-resume", "manifest.built")
        assert built.claude_args[built.claude_args.index("--resume") + 1] == session
        assert records(r, "run-resume")[0]["session_id"] == session
        assert (await r.client.result("run-resume"))["sessionId"] == session
        # On resume the CLI sent the earlier conversation (with the tool turn) again.
        history = stub.message_requests()[requests_before].body["messages"]
        assert len(history) > 3
        assert "ran-in-the-pod" in json.dumps(history)
        assert_key_never_logged(r, key)


async def test_an_api_error(tmp_path: Path) -> None:
    key = fresh_key()
    script = Script.error(400, "stub: scripted bad request")
    async with real_cli_rig(tmp_path / "volume", script, key) as (r, _stub):
        await r.start("run-400", "say hello")
        final = await r.wait_finished("run-400", RUN_LIMIT)
        assert (final["phase"], final["errorCode"], final["exitCode"]) == (
            "failed", "claude_failed", 1), r.dump("run-400")
        assert "API Error: 400 stub: scripted bad request" in final["errorMessage"]
        assert_exact(r, "run-400", final)
        last = records(r, "run-400")[-1]
        assert (last["type"], last["is_error"], last["api_error_status"]) == ("result", True, 400)
        assert_key_never_logged(r, key)
