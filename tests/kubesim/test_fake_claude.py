"""The fake `claude`: every scenario's stream-json shape and exit code, as a real process.

Shapes are compared with what the real Claude Code CLI 2.1.197 printed
(tests/fixtures/claude/real-cli/) and with the failure samples from the TypeScript adapter's
tests (tests/fixtures/claude/scenarios/). Most tests run `python -m kubesim.fake_claude` as
a subprocess, exactly as a pod's `claude` shim does; argument and header errors run the
same code in-process because they need no process.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trio

from kubesim.fake_claude import cli, scenarios
from kubesim.fake_claude.sessions import cwd_slug

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "claude"
REAL_CLI = FIXTURES / "real-cli"
ADAPTER_SAMPLES = FIXTURES / "scenarios"
FAKE = [sys.executable, "-m", "kubesim.fake_claude"]
STREAM = ["-p", "--output-format", "stream-json", "--verbose"]
RUN_LIMIT_S = 20


@dataclass
class Run:
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def lines(self) -> list[bytes]:
        return self.stdout.splitlines()

    @property
    def records(self) -> list[dict[str, Any]]:
        """The stdout lines that are JSON objects, in order."""
        found = []
        for line in self.lines:
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                found.append(value)
        return found

    @property
    def types(self) -> list[str]:
        return [r["type"] for r in self.records]

    def only(self, kind: str) -> dict[str, Any]:
        matches = [r for r in self.records if r["type"] == kind]
        assert len(matches) == 1, f"expected one {kind} record, got {len(matches)}"
        return matches[0]


@dataclass
class Place:
    """A HOME and a working directory, as a pod would have."""

    home: Path
    cwd: Path

    def env(self) -> dict[str, str]:
        # Without PYTHONUNBUFFERED (the shared conftest sets it): the fake must flush itself.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
        return {**env, "HOME": str(self.home)}


@pytest.fixture
def place(tmp_path: Path) -> Place:
    (tmp_path / "home").mkdir()
    (tmp_path / "work").mkdir()
    return Place(home=tmp_path / "home", cwd=tmp_path / "work")


async def run_fake(place: Place, prompt: str | bytes, *args: str) -> Run:
    """Run the fake as a subprocess with `prompt` on stdin; killed if it outlives the limit."""
    data = prompt.encode() if isinstance(prompt, str) else prompt
    with trio.fail_after(RUN_LIMIT_S):
        done = await trio.run_process([*FAKE, *args], stdin=data, capture_stdout=True,
                                      capture_stderr=True, check=False, cwd=place.cwd,
                                      env=place.env())
    return Run(done.returncode, done.stdout, done.stderr)


def run_in_process(place: Place, monkeypatch: pytest.MonkeyPatch, prompt: str,
                   *args: str) -> Run:
    """The same entry point without a process (no signals, no sleeping scenarios)."""
    monkeypatch.chdir(place.cwd)
    monkeypatch.setenv("HOME", str(place.home))
    out, err = io.BytesIO(), io.BytesIO()
    code = cli.run(list(args), stdin=io.BytesIO(prompt.encode()), stdout=out, stderr=err)
    return Run(code, out.getvalue(), err.getvalue())


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


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
    if value is None:
        return "null"
    return "string"


def without_fake_info(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "fake_claude"}


# --- every scenario --------------------------------------------------------------------------

# scenario header -> (record types in order, (result subtype, is_error) or None, exit code)
EXPECTED: dict[str, tuple[str, list[str], tuple[str, bool] | None, int]] = {
    "happy": ("#scenario happy", ["system", "assistant", "result"], ("success", False), 0),
    "chatty": ("#scenario chatty lines=3", ["system", *["assistant"] * 3, "result"],
               ("success", False), 0),
    "big-line": ("#scenario big-line bytes=4096", ["system", "assistant", "result"],
                 ("success", False), 0),
    "tool": ("#scenario tool", ["system", "assistant", "assistant", "user", "assistant",
                                "result"], ("success", False), 0),
    "unknown-session": ("#scenario unknown-session", ["result"],
                        ("error_during_execution", True), 1),
    "llm-empty": ("#scenario llm-empty", ["system", "assistant"], None, 0),
    "truncated": ("#scenario truncated", ["system", "assistant", "assistant", "user"], None, 0),
    "no-result": ("#scenario no-result", ["system", "assistant", "rate_limit_event"], None, 0),
    "rate-limit": ("#scenario rate-limit", ["system", "rate_limit_event", "assistant", "result"],
                   ("success", True), 1),
    "error-result": ("#scenario error-result", ["system", "assistant", "result"],
                     ("error_during_execution", True), 1),
    "api-error": ("#scenario api-error", ["system", "assistant", "result"], ("success", True), 1),
    "stderr-noise": ("#scenario stderr-noise", ["system", "assistant", "result"],
                     ("success", False), 0),
    "mixed": ("#scenario mixed", ["system", "assistant", "assistant", "user", "assistant",
                                  "result"], ("success", False), 0),
    "sleep": ("#scenario sleep seconds=0", ["system", "assistant", "result"],
              ("success", False), 0),
    "hang": ("#scenario hang seconds=0", ["system"], None, 1),
    "exit": ("#scenario exit", ["system"], None, 1),
}


def test_every_scenario_has_an_expectation() -> None:
    assert set(EXPECTED) == set(scenarios.SCENARIOS)


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_scenario_shape_and_exit_code(place: Place, name: str) -> None:
    header, types, result, code = EXPECTED[name]
    run = await run_fake(place, f"{header}\nplease do the thing\n", *STREAM)

    assert run.returncode == code, run.stderr
    assert run.types == types
    if result is None:
        assert "result" not in run.types
    else:
        final = run.only("result")
        assert (final["subtype"], final["is_error"]) == result
        assert final["session_id"] == run.records[0]["session_id"]
    if "system" in types:
        init = run.only("system")
        assert init["subtype"] == "init"
        assert init["fake_claude"]["scenario"] == name
        # One session id on every record that carries one.
        assert {r["session_id"] for r in run.records if "session_id" in r} == {init["session_id"]}


async def test_no_header_plays_a_short_happy_run_that_echoes_the_prompt(place: Place) -> None:
    run = await run_fake(place, "Summarise the open issues\nand more text\n", *STREAM)

    assert run.returncode == 0
    assert run.types == ["system", "assistant", "result"]
    assert run.only("system")["fake_claude"]["scenario"] == "happy"
    assert "Summarise the open issues" in run.only("result")["result"]


# --- shapes against the real CLI ---------------------------------------------------------------


async def test_text_run_has_the_real_cli_shape(place: Place) -> None:
    real = load_jsonl(REAL_CLI / "text.jsonl")
    run = await run_fake(place, "#scenario happy text=hi\nsay hi", *STREAM)

    fake = [without_fake_info(r) for r in run.records]
    assert [shape(r) for r in fake] == [shape(r) for r in real]
    assert run.only("result")["result"] == "hi"


@pytest.mark.parametrize("sample", ["tool-bypass.jsonl", "tool-allowedtools.jsonl"])
async def test_tool_run_has_the_real_cli_shape(place: Place, sample: str) -> None:
    real = load_jsonl(REAL_CLI / sample)
    run = await run_fake(place, "#scenario tool\nrun echo hi", *STREAM,
                         "--dangerously-skip-permissions")

    fake = [without_fake_info(r) for r in run.records]
    assert [shape(r) for r in fake] == [shape(r) for r in real]
    # As the real CLI: the text and the tool_use of one reply share a message id.
    first, second = fake[1]["message"], fake[2]["message"]
    assert first["id"] == second["id"]
    assert [first["content"][0]["type"], second["content"][0]["type"]] == ["text", "tool_use"]
    tool_use_id = second["content"][0]["id"]
    assert fake[3]["message"]["content"][0]["tool_use_id"] == tool_use_id
    assert run.only("result")["num_turns"] == 2
    assert fake[0]["permissionMode"] == "bypassPermissions"


async def test_api_error_has_the_real_cli_shape(place: Place) -> None:
    real = load_jsonl(REAL_CLI / "api-error400.jsonl")
    run = await run_fake(place, '#scenario api-error message="stub: scripted bad request"',
                         *STREAM)

    assert run.returncode == 1
    fake = [without_fake_info(r) for r in run.records]
    assert [shape(r) for r in fake] == [shape(r) for r in real]
    assert fake[2]["result"] == real[2]["result"] == "API Error: 400 stub: scripted bad request"
    assert fake[2]["api_error_status"] == 400


async def test_unknown_session_has_the_real_cli_shape(place: Place) -> None:
    real = load_jsonl(REAL_CLI / "unknown-session.jsonl")
    missing = "11111111-2222-3333-4444-555555555555"
    run = await run_fake(place, "hello", *STREAM, "--resume", missing)

    assert run.returncode == 1
    assert [shape(r) for r in run.records] == [shape(r) for r in real]
    assert run.records[0]["errors"] == real[0]["errors"]
    assert run.stderr.decode().strip() == f"No conversation found with session ID: {missing}"


async def test_max_turns_stops_like_the_real_cli(place: Place) -> None:
    real = load_jsonl(REAL_CLI / "max-turns.jsonl")
    run = await run_fake(place, "#scenario tool tools=3", *STREAM, "--max-turns", "1",
                         "--dangerously-skip-permissions")

    assert run.returncode == 1
    fake = [without_fake_info(r) for r in run.records]
    assert [shape(r) for r in fake] == [shape(r) for r in real]
    result = run.only("result")
    assert (result["subtype"], result["num_turns"], result["terminal_reason"]) == (
        "error_max_turns", 2, "max_turns")
    assert result["errors"] == ["Reached maximum number of turns (1)"]


# --- failure shapes the adapter classifies ------------------------------------------------------


async def test_llm_empty_matches_the_empty_response_sample(place: Place) -> None:
    sample = load_jsonl(ADAPTER_SAMPLES / "03-llm-api-empty-response.jsonl")[1]["message"]
    run = await run_fake(place, "#scenario llm-empty", *STREAM)

    message = run.records[1]["message"]
    # What the empty-response classifier reads: explicit null stop_reason, 0 output tokens.
    assert message["stop_reason"] is None and sample["stop_reason"] is None
    assert message["usage"]["output_tokens"] == sample["usage"]["output_tokens"] == 0
    assert message["content"] == sample["content"] == []


async def test_truncated_shows_content_then_stops(place: Place) -> None:
    sample = load_jsonl(ADAPTER_SAMPLES / "04-truncated-mid-stream.jsonl")
    run = await run_fake(place, "#scenario truncated exit=137", *STREAM)

    assert run.returncode == 137
    assert run.types == [r["type"] for r in sample][:1] + ["assistant"] + [
        r["type"] for r in sample][1:]
    # The truncation classifier needs an assistant line with output tokens and no result.
    assert any(r["message"]["usage"]["output_tokens"] > 0 for r in run.records
               if r["type"] == "assistant")


async def test_no_result_is_thinking_then_rate_limit(place: Place) -> None:
    thinking = load_jsonl(ADAPTER_SAMPLES / "05-minimax-thinking-only-no-result.jsonl")[1]
    rate = load_jsonl(ADAPTER_SAMPLES / "06-rate-limit-event-no-result.jsonl")[1]
    run = await run_fake(place, "#scenario no-result", *STREAM)

    assistant, event = run.records[1], run.records[2]
    assert [b["type"] for b in assistant["message"]["content"]] == ["thinking"]
    assert shape(assistant["message"]["content"]) == shape(thinking["message"]["content"])
    assert set(rate["rate_limit_info"]) <= set(event["rate_limit_info"])
    assert set(rate) == set(event)


async def test_rate_limit_allowed_still_succeeds(place: Place) -> None:
    full = load_jsonl(ADAPTER_SAMPLES / "07-rate-limit-event-full.jsonl")[0]
    run = await run_fake(place, "#scenario rate-limit status=allowed", *STREAM)

    assert run.returncode == 0
    assert run.types == ["system", "rate_limit_event", "assistant", "result"]
    assert shape(run.records[1]) == shape(full)
    assert run.only("result")["is_error"] is False


async def test_rate_limit_rejected_reports_a_429(place: Place) -> None:
    run = await run_fake(place, '#scenario rate-limit message="slow down"', *STREAM)

    assert run.records[1]["rate_limit_info"]["status"] == "rejected"
    assert run.records[2]["error"] == "rate_limit"
    result = run.only("result")
    assert result["api_error_status"] == 429
    assert result["result"] == "API Error: Request rejected (429) · slow down"


async def test_error_result_carries_subtype_and_errors(place: Place) -> None:
    run = await run_fake(place, "#scenario error-result subtype=error_max_turns message=boom",
                         *STREAM)

    result = run.only("result")
    assert (result["subtype"], result["is_error"], result["errors"]) == (
        "error_max_turns", True, ["boom"])


async def test_stderr_noise_interleaves_both_streams(place: Place) -> None:
    run = await run_fake(place, "#scenario stderr-noise lines=4", *STREAM)

    noise_out = [line for line in run.lines if line.startswith(b"[fake-claude stdout]")]
    noise_err = run.stderr.decode().splitlines()
    assert len(noise_out) == 4 and len(noise_err) == 4
    # Noise before and after the assistant line, not bunched at one end.
    kinds = ["json" if line.startswith(b"{") else "noise" for line in run.lines]
    assert kinds == ["json", "noise", "noise", "json", "noise", "noise", "json"]


async def test_mixed_puts_a_non_json_line_between_json_lines(place: Place) -> None:
    run = await run_fake(place, "#scenario mixed", *STREAM)

    parsed = []
    for line in run.lines:
        try:
            parsed.append(isinstance(json.loads(line), dict))
        except ValueError:
            parsed.append(False)
    assert parsed == [True, False] * 5 + [True]


async def test_exit_scenario_uses_code(place: Place) -> None:
    with_init = await run_fake(place, "#scenario exit code=7", *STREAM)
    bare = await run_fake(place, "#scenario exit code=3 init=0", *STREAM)

    assert (with_init.returncode, with_init.types) == (7, ["system"])
    assert (bare.returncode, bare.stdout) == (3, b"")
    assert b"exiting early with code 3" in bare.stderr


# --- invocation: prompt, flags, formats ----------------------------------------------------------


async def test_prompt_is_read_from_stdin_or_the_argument(place: Place) -> None:
    prompt = "#scenario happy\nline two of a prompt\n" + "é" * 10
    from_stdin = await run_fake(place, prompt, "--print", "-", "--output-format", "stream-json",
                                "--verbose")
    from_arg = await run_fake(place, b"ignored stdin", *STREAM, "from the argument")

    info = from_stdin.only("system")["fake_claude"]
    assert info["prompt_sha256"] == hashlib.sha256(prompt.encode()).hexdigest()
    assert info["prompt_bytes"] == len(prompt.encode())
    assert from_arg.only("result")["result"] == "Done. You said: from the argument"


async def test_empty_prompt_fails_like_the_real_cli(place: Place) -> None:
    run = await run_fake(place, "  \n", *STREAM)

    assert run.returncode == 1
    assert run.stdout == b""
    assert b"Input must be provided either through stdin or as a prompt argument" in run.stderr


async def test_flags_the_supervisor_passes_are_recorded(place: Place) -> None:
    args = ["--print", "-", "--output-format", "stream-json", "--verbose",
            "--dangerously-skip-permissions", "--model", "claude-sonnet-4-6", "--effort", "high",
            "--max-turns", "30", "--append-system-prompt-file", "/tmp/prompt/instructions.md",
            "--add-dir", "/tmp/prompt/bundle", "--mcp-config", "/tmp/prompt/mcp.json",
            "--strict-mcp-config", "--allowedTools", "Bash", "--future-flag", "--level=3"]
    run = await run_fake(place, "hello", *args)

    init = run.only("system")
    info = init["fake_claude"]
    assert info["argv"] == args
    flags = info["flags"]
    assert (flags["model"], flags["effort"]) == ("claude-sonnet-4-6", "high")
    assert flags["max_turns"] == 30
    assert flags["append_system_prompt_file"] == "/tmp/prompt/instructions.md"
    assert flags["add_dir"] == ["/tmp/prompt/bundle"]
    assert flags["mcp_config"] == ["/tmp/prompt/mcp.json"] and flags["strict_mcp_config"]
    assert flags["allowed_tools"] == ["Bash"] and flags["dangerously_skip_permissions"]
    assert info["unknown_args"] == ["--future-flag", "--level=3"]
    assert (init["model"], init["permissionMode"]) == ("claude-sonnet-4-6", "bypassPermissions")
    assert run.records[1]["message"]["model"] == "claude-sonnet-4-6"
    assert init["cwd"] == str(place.cwd)


async def test_stream_json_without_verbose_fails_like_the_real_cli(place: Place) -> None:
    run = await run_fake(place, "hello", "-p", "--output-format", "stream-json")

    assert run.returncode == 1
    assert b"--output-format=stream-json requires --verbose" in run.stderr


async def test_json_and_text_formats_print_only_the_result(place: Place) -> None:
    as_json = await run_fake(place, "#scenario happy text=hello", "-p", "--output-format", "json")
    as_text = await run_fake(place, "#scenario happy text=hello", "-p")

    assert [json.loads(line)["type"] for line in as_json.lines] == ["result"]
    assert as_text.stdout == b"hello\n"


def test_bad_headers_name_what_is_wrong(place: Place, monkeypatch: pytest.MonkeyPatch) -> None:
    cases = {
        "#scenario nosuch": "unknown scenario 'nosuch'",
        "#scenario chatty lines=many": "setting lines='many' is not an int",
        "#scenario chatty colour=red": "scenario 'chatty' has no setting 'colour'",
        "#scenario chatty lines": "setting 'lines' is not key=value",
        "#scenario hang term=maybe": "setting term='maybe' must be one of exit, ignore",
        "#scenario chatty lines=-1": "setting lines='-1' must be at least 0",
        "#scenario big-line bytes=10": "setting bytes=10 is below the smallest such line",
        "#scenario": "names no scenario",
    }
    for prompt, message in cases.items():
        run = run_in_process(place, monkeypatch, prompt, *STREAM)
        assert run.returncode == cli.USAGE_ERROR, prompt
        assert message in run.stderr.decode(), (prompt, run.stderr)
        assert run.stdout == b"", prompt


def test_api_error_wording_follows_the_status(place: Place,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    expected = {
        400: ("API Error: 400 nope", "unknown"),
        401: ("Invalid API key · Fix external API key", "authentication_failed"),
        429: ("API Error: Request rejected (429) · nope", "rate_limit"),
        529: (scenarios.API_ERROR_TEXTS[529][0], "server_error"),
    }
    for status, (text, kind) in expected.items():
        run = run_in_process(place, monkeypatch, f"#scenario api-error status={status} "
                             "message=nope", *STREAM)
        assert run.returncode == 1
        assert (run.records[1]["error"], run.records[1]["message"]["content"][0]["text"]) == (
            kind, text)
        assert (run.only("result")["result"], run.only("result")["api_error_status"]) == (
            text, status)


def test_continue_resumes_the_latest_session_here(place: Place,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    nothing = run_in_process(place, monkeypatch, "hi", *STREAM, "--continue")
    first = run_in_process(place, monkeypatch, "#scenario happy seed=c1", *STREAM)
    later = run_in_process(place, monkeypatch, "#scenario happy seed=c2", *STREAM)
    resumed = run_in_process(place, monkeypatch, "go on", *STREAM, "--continue")

    assert nothing.returncode == 1 and b"No conversation found" in nothing.stderr
    assert first.only("system")["session_id"] != later.only("system")["session_id"]
    assert resumed.only("system")["session_id"] == later.only("system")["session_id"]


def test_session_id_must_be_a_uuid(place: Place, monkeypatch: pytest.MonkeyPatch) -> None:
    run = run_in_process(place, monkeypatch, "hi", *STREAM, "--session-id", "sess_abc")

    assert run.returncode == 1
    assert b"Must be a valid UUID" in run.stderr


def test_list_scenarios_and_version(place: Place, monkeypatch: pytest.MonkeyPatch) -> None:
    listing = run_in_process(place, monkeypatch, "", "--list-scenarios")
    version = run_in_process(place, monkeypatch, "", "--version")

    assert listing.returncode == 0
    for name, scenario in scenarios.SCENARIOS.items():
        assert f"| `{name}` |" in listing.stdout.decode()
        for key in scenario.keys:
            assert f"`{key.name}=" in listing.stdout.decode()
    assert version.stdout.decode().startswith("2.1.197 ")


# --- sessions ---------------------------------------------------------------------------------


async def test_resume_keeps_the_session_in_the_same_home_and_cwd(place: Place,
                                                                tmp_path: Path) -> None:
    first = await run_fake(place, "#scenario happy seed=1\nstart", *STREAM)
    session = first.only("system")["session_id"]
    resumed = await run_fake(place, "#scenario tool\ncontinue", *STREAM, "--resume", session)

    assert resumed.returncode == 0
    assert resumed.only("system")["session_id"] == session
    assert resumed.only("result")["session_id"] == session
    assert resumed.only("system")["fake_claude"]["resumed"] is True
    stored = place.home / ".fake-claude" / "sessions" / cwd_slug(str(place.cwd))
    assert (stored / f"{session}.json").is_file()

    other_cwd = Place(home=place.home, cwd=tmp_path)
    other_home = Place(home=tmp_path, cwd=place.cwd)
    for where in (other_cwd, other_home):
        lost = await run_fake(where, "continue", *STREAM, "--resume", session)
        assert lost.returncode == 1
        assert lost.types == ["result"]
        assert lost.only("result")["subtype"] == "error_during_execution"
        assert f"No conversation found with session ID: {session}".encode() in lost.stderr


async def test_session_id_flag_and_no_persistence(place: Place) -> None:
    chosen = "0f4c8b1e-7d2a-4c55-9a0e-3b2f1d6e8a90"
    preset = await run_fake(place, "hi", *STREAM, "--session-id", chosen)
    transient = await run_fake(place, "#scenario happy seed=t", *STREAM,
                               "--no-session-persistence")
    transient_id = transient.only("system")["session_id"]
    again = await run_fake(place, "hi", *STREAM, "--resume", chosen)
    lost = await run_fake(place, "hi", *STREAM, "--resume", transient_id)

    assert preset.only("system")["session_id"] == chosen
    assert (again.returncode, again.only("result")["subtype"]) == (0, "success")
    assert (lost.returncode, lost.only("result")["subtype"]) == (1, "error_during_execution")


# --- determinism, size, pacing, signals -------------------------------------------------------


async def test_same_seed_same_bytes_and_different_seed_different_ids(place: Place) -> None:
    a1 = await run_fake(place, "#scenario tool seed=alpha\nx", *STREAM)
    a2 = await run_fake(place, "#scenario tool seed=alpha\nx", *STREAM)
    b = await run_fake(place, "#scenario tool seed=beta\nx", *STREAM)
    a_other_prompt = await run_fake(place, "#scenario tool seed=alpha\ny", *STREAM)
    unseeded1 = await run_fake(place, "no seed here", *STREAM)
    unseeded2 = await run_fake(place, "no seed here", *STREAM)

    assert a1.stdout == a2.stdout
    assert unseeded1.stdout == unseeded2.stdout
    assert a1.only("system")["session_id"] != b.only("system")["session_id"]
    assert a1.records[1]["message"]["id"] != b.records[1]["message"]["id"]
    # The session id follows the seed, not the rest of the prompt.
    assert a1.only("system")["session_id"] == a_other_prompt.only("system")["session_id"]


async def test_one_mebibyte_line_arrives_intact(place: Place) -> None:
    run = await run_fake(place, "#scenario big-line", *STREAM)

    assert run.returncode == 0
    big = run.lines[1]
    assert len(big) == 1024 * 1024
    text = json.loads(big)["message"]["content"][0]["text"]
    assert text == scenarios.big_text(len(text))
    expected = hashlib.sha256(text.encode()).hexdigest()
    assert f"text_sha256={expected}" in run.only("result")["result"]


async def test_lines_are_flushed_one_by_one_at_the_requested_pace(place: Place) -> None:
    pace_s, lines = 0.1, 6
    arrivals: list[float] = []
    async with spawned(place, f"#scenario chatty lines={lines} pace_ms={int(pace_s * 1000)}") as (
        process
    ):
        assert process.stdout is not None
        with trio.fail_after(RUN_LIMIT_S):
            async for chunk in process.stdout:
                now = trio.current_time()
                arrivals.extend(now for _ in range(chunk.count(b"\n")))
            await process.wait()

    assert process.returncode == 0
    assert len(arrivals) == lines + 2  # init, the chatty lines, result
    # Flushed as written and paced: the lines arrive spread over the run, not in one burst
    # at exit (a slow reader may merge a few, so only the overall spread is asserted).
    assert arrivals[-1] - arrivals[0] >= 0.8 * pace_s * (lines + 1)
    assert len(set(arrivals)) >= 3


@asynccontextmanager
async def spawned(place: Place, prompt: str, *args: str) -> AsyncIterator[trio.Process]:
    """The fake running with `prompt` on its stdin and stdout piped; killed on the way out."""
    read_fd, write_fd = os.pipe()
    os.write(write_fd, prompt.encode())
    os.close(write_fd)
    try:
        process = await trio.lowlevel.open_process([*FAKE, *STREAM, *args], stdin=read_fd,
                                                   stdout=subprocess.PIPE, cwd=place.cwd,
                                                   env=place.env())
    finally:
        os.close(read_fd)
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        with trio.CancelScope(shield=True):
            await process.wait()


async def _read_first_line(process: trio.Process) -> bytes:
    assert process.stdout is not None
    buffer = b""
    while b"\n" not in buffer:
        chunk = await process.stdout.receive_some()
        assert chunk, "the fake closed stdout before its first line"
        buffer += chunk
    return buffer.split(b"\n", 1)[0]


def _ignores_sigterm(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status").read_text()
    mask = int(next(line.split()[1] for line in status.splitlines()
                    if line.startswith("SigIgn:")), 16)
    return bool(mask & (1 << (signal.SIGTERM - 1)))


async def test_hang_dies_promptly_on_sigterm(place: Place) -> None:
    async with spawned(place, "#scenario hang seconds=60") as process:
        with trio.fail_after(RUN_LIMIT_S):
            first = await _read_first_line(process)
        assert json.loads(first)["subtype"] == "init"
        assert not _ignores_sigterm(process.pid)
        process.send_signal(signal.SIGTERM)
        with trio.fail_after(5):
            await process.wait()
    assert process.returncode == -signal.SIGTERM


async def test_hang_can_ignore_sigterm_so_only_sigkill_ends_it(place: Place) -> None:
    async with spawned(place, "#scenario hang seconds=60 term=ignore") as process:
        with trio.fail_after(RUN_LIMIT_S):
            await _read_first_line(process)
        # The disposition is set before the init line, so it is in force now.
        assert _ignores_sigterm(process.pid)
        process.send_signal(signal.SIGTERM)
        process.kill()
        with trio.fail_after(5):
            await process.wait()
    assert process.returncode == -signal.SIGKILL
