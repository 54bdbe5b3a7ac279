"""Human formatting of stream-json lines (supervisor.pretty).

Ports the seed's format-event tests (reference §10: printClaudeStreamEvent and
formatClaudeStreamLine; here one function, with `color` and `debug` flags, that never prints)
and adds the one-line tool summaries, truncated tool results and the §9.5 `null` crash fix.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from supervisor.pretty import format_line, summarize_tool_input

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "claude"


def line(name: str, index: int) -> bytes:
    return (FIXTURES / name).read_bytes().splitlines(keepends=True)[index]


def event(**fields: object) -> str:
    return json.dumps(fields)


def tool_use(name: str, tool_input: object) -> str:
    return event(
        type="assistant",
        message={"content": [{"type": "tool_use", "name": name, "input": tool_input}]},
    )


def tool_result(content: object, *, is_error: bool | None = None) -> str:
    block: dict[str, object] = {"type": "tool_result", "tool_use_id": "t1", "content": content}
    if is_error is not None:
        block["is_error"] = is_error
    return event(type="user", message={"content": [block]})


ASSORTED = "adapter-tests/08-assorted-events.jsonl"


# --------------------------------------------------------------------------- seed cases


@pytest.mark.parametrize("blank", ["", "   ", "\n", b"\r\n", b""])
def test_blank_lines_give_nothing(blank: str | bytes) -> None:
    assert format_line(blank) is None


def test_non_json_lines_are_returned_verbatim() -> None:
    assert format_line("[paperclip] Pod running: pod-abc") == "[paperclip] Pod running: pod-abc"
    assert format_line(b"plain stderr text\n") == "plain stderr text"
    assert format_line("{broken json") == "{broken json"


def test_init_event_with_model_and_session() -> None:
    assert (
        format_line(line(ASSORTED, 0))
        == "Claude initialized (model: claude-opus-4-6, session: sess_abc123)"
    )


def test_init_event_without_model_or_session() -> None:
    assert (
        format_line(event(type="system", subtype="init")) == "Claude initialized (model: unknown)"
    )


def test_assistant_text_block() -> None:
    assert format_line(line(ASSORTED, 1)) == "assistant: Hello"


def test_assistant_thinking_block() -> None:
    assert format_line(line(ASSORTED, 3)) == "thinking: Let me think..."


def test_assistant_tool_use_block_is_one_summarised_line() -> None:
    assert format_line(line(ASSORTED, 4)) == "tool_call: Bash: ls -la"


def test_assistant_with_nothing_printable_gives_nothing() -> None:
    thinking_only_empty = event(
        type="assistant",
        message={"content": [{"type": "thinking", "thinking": ""}, {"type": "text", "text": ""}]},
    )
    assert format_line(thinking_only_empty) is None
    assert format_line(event(type="assistant", message={"content": []})) is None
    assert format_line(event(type="assistant")) is None


def test_user_tool_result() -> None:
    assert format_line(tool_result("hi", is_error=False)) == "tool_result: hi"


def test_user_tool_result_error() -> None:
    assert format_line(line(ASSORTED, 6)) == "tool_result (error): Permission denied"


def test_tool_result_text_parts_are_joined_then_truncated() -> None:
    assert format_line(line(ASSORTED, 7)) == "tool_result: part1 … (1 more line)"


def test_result_with_tokens_and_cost() -> None:
    assert (
        format_line(line(ASSORTED, 8))
        == "result: Done\ntokens: in=100 out=200 cached=50 cost=$0.005000"
    )


def test_result_error_subtype_and_errors() -> None:
    assert format_line(line("adapter-tests/09-error-results.jsonl", 0)) == (
        "claude_result: subtype=error_rate_limit is_error=true\n"
        "claude_errors: rate limited\n"
        "tokens: in=0 out=0 cached=0 cost=$0.000000"
    )


def test_result_object_errors_use_their_message() -> None:
    assert format_line(line("adapter-tests/09-error-results.jsonl", 1)) == (
        "claude_result: subtype=unknown is_error=false\nclaude_errors: obj error\ntokens: in=0 out=0 cached=0 cost=$0.000000"
    )


def test_rate_limit_event_with_type_status_and_reset_time() -> None:
    # FAR-32: the CLI used to swallow rate_limit_event lines.
    formatted = format_line(line("adapter-tests/07-rate-limit-event-full.jsonl", 0))
    assert formatted == "rate_limit: type=five_hour status=allowed resets=2026-04-24T18:40:00Z"
    assert "3ab8f9eb" not in formatted  # the raw uuid is never shown


def test_rate_limit_event_with_unknown_fields() -> None:
    assert format_line(event(type="rate_limit_event")) == "rate_limit: type=unknown status=unknown"
    odd = event(type="rate_limit_event", rate_limit_info={"status": 3, "resetsAt": "soon"})
    assert format_line(odd) == "rate_limit: type=unknown status=unknown"
    huge = event(type="rate_limit_event", rate_limit_info={"status": "rejected", "resetsAt": 1e300})
    assert format_line(huge) == "rate_limit: type=unknown status=rejected"


@pytest.mark.parametrize(
    "raw",
    [
        event(type="stream_event", event={"type": "message_start"}),
        event(type="system", subtype="status", status="requesting"),
        event(type="future_kind"),
        event(no_type=True),
    ],
)
def test_unknown_types_give_nothing_unless_debugging(raw: str) -> None:
    assert format_line(raw) is None
    assert format_line(raw, debug=True) == raw


def test_colour_wraps_each_line() -> None:
    assert format_line(line(ASSORTED, 0), color=True) == (
        "\x1b[34mClaude initialized (model: claude-opus-4-6, session: sess_abc123)\x1b[0m"
    )
    assert (
        format_line(line(ASSORTED, 6), color=True)
        == "\x1b[31mtool_result (error): Permission denied\x1b[0m"
    )
    assert format_line(line(ASSORTED, 8), color=True) == (
        "\x1b[32mresult: Done\x1b[0m\n\x1b[34mtokens: in=100 out=200 cached=50 cost=$0.005000\x1b[0m"
    )
    assert format_line("[paperclip] plain", color=True) == "[paperclip] plain"
    assert (
        format_line(event(type="future_kind"), color=True, debug=True)
        == '\x1b[90m{"type": "future_kind"}\x1b[0m'
    )


def test_output_is_plain_text_by_default() -> None:
    for raw in (FIXTURES / "captured/tool-denied.jsonl").read_bytes().splitlines():
        assert "\x1b[" not in (format_line(raw) or "")


# --------------------------------------------------------------------------- beyond the seed


@pytest.mark.parametrize("raw", ["null", "[]", "[1, 2]", "42", '"just a string"', "true"])
def test_b20_non_object_json_is_plain_text_not_a_crash(raw: str) -> None:
    # Seed defect B.20: a JSON `null` line crashed the formatter.
    assert format_line(raw) == raw


@pytest.mark.parametrize(
    ("name", "tool_input", "expected"),
    [
        ("Bash", {"command": "ls -la", "description": "List"}, "ls -la"),
        ("Bash", {"command": "set -e\nmake\nmake test"}, "set -e … (2 more lines)"),
        ("Read", {"file_path": "/workspace/src/app.py", "limit": 20}, "/workspace/src/app.py"),
        ("Write", {"file_path": "/w/a.txt", "content": "x" * 5000}, "/w/a.txt"),
        ("Edit", {"file_path": "/w/b.py", "old_string": "a", "new_string": "b"}, "/w/b.py"),
        ("Grep", {"pattern": "TODO", "path": "src"}, "TODO in src"),
        ("Glob", {"pattern": "**/*.py"}, "**/*.py"),
        ("WebFetch", {"url": "https://example.com", "prompt": "summarise"}, "https://example.com"),
        ("WebSearch", {"query": "trio nursery"}, "trio nursery"),
        ("Task", {"description": "Explore repo", "prompt": "long prompt"}, "Explore repo"),
        ("TodoWrite", {"todos": [{"content": "a"}, {"content": "b"}]}, "2 todos"),
        ("TodoWrite", {"todos": [{"content": "a"}]}, "1 todo"),
        (
            "mcp__github__get_issue",
            {"owner": "o", "repo": "r", "issue_number": 7},
            '{"owner":"o","repo":"r","issue_number":7}',
        ),
        ("mcp__fs__read", {"path": "/etc/hosts"}, "/etc/hosts"),
        ("Bash", {}, ""),
        ("Bash", "not an object", ""),
    ],
)
def test_tool_input_summaries(name: str, tool_input: object, expected: str) -> None:
    assert summarize_tool_input(name, tool_input) == expected


def test_tool_call_line_uses_the_summary_and_never_dumps_json() -> None:
    assert format_line(tool_use("Read", {"file_path": "/w/x.md"})) == "tool_call: Read: /w/x.md"
    assert format_line(tool_use("Bash", {})) == "tool_call: Bash"
    unnamed = event(
        type="assistant", message={"content": [{"type": "tool_use", "input": {"command": "pwd"}}]}
    )
    assert format_line(unnamed) == "tool_call: unknown: pwd"


def test_long_summaries_and_results_are_cut() -> None:
    formatted = format_line(tool_use("other", {"data": "z" * 1000}))
    assert formatted is not None
    assert len(formatted) == len("tool_call: other: ") + 200
    assert formatted.endswith("…")
    long_result = format_line(tool_result("r" * 1000 + "\nmore"))
    assert long_result == "tool_result: " + "r" * 199 + "… … (1 more line)"


def test_tool_result_without_content_and_with_non_text_parts() -> None:
    assert format_line(tool_result("")) == "tool_result"
    assert format_line(tool_result("", is_error=True)) == "tool_result (error)"
    image = [{"type": "image", "source": {"data": "..."}}, {"type": "text", "text": "caption"}]
    assert format_line(tool_result(image)) == "tool_result: [image] … (1 more line)"


def test_thinking_shows_its_opening_lines_only() -> None:
    thinking = "\n".join(f"step {i}" for i in range(10))
    raw = event(type="assistant", message={"content": [{"type": "thinking", "thinking": thinking}]})
    assert format_line(raw) == "thinking: step 0 ⏎ step 1 ⏎ step 2 … (7 more lines)"


def test_user_text_is_shown_on_one_line() -> None:
    raw = event(type="user", message={"content": "Continue your work.\nSecond paragraph."})
    assert format_line(raw) == "user: Continue your work. … (1 more line)"


def test_several_blocks_of_one_event_give_several_lines() -> None:
    raw = event(
        type="assistant",
        message={
            "content": [
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "name": "Bash", "input": {"command": "ls"}},
            ]
        },
    )
    assert format_line(raw) == "assistant: Let me look.\ntool_call: Bash: ls"


def test_real_cli_result_shows_denials_turns_and_duration() -> None:
    formatted = format_line(line("captured/tool-denied.jsonl", -1))
    assert formatted is not None
    lines = formatted.splitlines()
    assert lines[1:] == [
        "permission_denied: Bash: touch /workspace/x",
        "tokens: in=24 out=10 cached=0 cost=$0.000370 turns=2 duration=0.2s",
    ]


def test_real_cli_api_error_result_shows_the_http_status() -> None:
    formatted = format_line(line("captured/api-error400.jsonl", -1))
    assert formatted is not None
    assert formatted.splitlines()[:2] == [
        "result: API Error: 400 stub: scripted bad request",
        "claude_result: subtype=success is_error=true api_error_status=400",
    ]


def test_bytes_with_crlf_and_invalid_utf8() -> None:
    assert (
        format_line(b'{"type":"assistant","message":{"content":[{"type":"text","text":"hi"}]}}\r\n')
        == "assistant: hi"
    )
    assert format_line(b"bad \xff byte\n") == "bad \ufffd byte"


def test_a_whole_real_transcript_reads_as_a_short_story() -> None:
    rendered = [
        out
        for raw in (FIXTURES / "captured/tool-partial.jsonl").read_bytes().splitlines()
        if (out := format_line(raw)) is not None
    ]
    assert rendered == [
        "Claude initialized (model: claude-opus-4-8[1m], session: f4e36b7f-858e-45fc-bc1e-0b5be7fa9a47)",
        "assistant: Running it.",
        "tool_call: Bash: echo hi",
        "tool_result: hi",
        "assistant: The command printed: hi",
        "result: The command printed: hi\ntokens: in=24 out=10 cached=0 cost=$0.000370 turns=2 duration=0.1s",
    ]
