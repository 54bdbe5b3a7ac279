"""Line splitting and transcript parsing of Claude stream-json (supervisor.streamjson).

The parser cases port the seed adapter's `parseClaudeStreamJson` tests (reference §10, parse)
and add the cases a Python port needs: real CLI captures, partial transcripts, recovery of a
result glued to other text, tolerance of odd types, and incremental feeding.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supervisor import streamjson
from supervisor.streamjson import (
    LineSplitter,
    RateLimit,
    TranscriptParser,
    Usage,
    decode_object,
    error_messages,
    line_text,
    parse_transcript,
    recover_result_event,
    split_lines,
    strip_line_ending,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "claude"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def jsonl(*events: object) -> bytes:
    return b"".join(json.dumps(event).encode() + b"\n" for event in events)


def assistant(
    *blocks: dict[str, object],
    message_id: str | None = None,
    stop_reason: object = "end_turn",
    output_tokens: int | None = 5,
    session_id: str | None = None,
    model: str | None = None,
) -> dict[str, object]:
    message: dict[str, object] = {"content": list(blocks), "stop_reason": stop_reason}
    if message_id is not None:
        message["id"] = message_id
    if output_tokens is not None:
        message["usage"] = {"output_tokens": output_tokens}
    if model is not None:
        message["model"] = model
    event: dict[str, object] = {"type": "assistant", "message": message}
    if session_id is not None:
        event["session_id"] = session_id
    return event


def text(value: str) -> dict[str, object]:
    return {"type": "text", "text": value}


# --------------------------------------------------------------------------- LineSplitter


def feed_all(chunks: list[bytes], splitter: LineSplitter | None = None) -> list[bytes]:
    splitter = splitter or LineSplitter()
    lines: list[bytes] = []
    for chunk in chunks:
        lines.extend(splitter.feed(chunk))
    rest = splitter.flush()
    if rest is not None:
        lines.append(rest)
    return lines


def test_splitter_returns_complete_lines_with_their_newline() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b'{"a":1}\n{"b":2}\n') == [b'{"a":1}\n', b'{"b":2}\n']
    assert splitter.pending_bytes == 0
    assert splitter.flush() is None


def test_splitter_holds_a_partial_line_until_its_newline_arrives() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b'{"type":"sys') == []
    assert splitter.pending_bytes == len(b'{"type":"sys')
    assert splitter.feed(b'tem"}\n{"ty') == [b'{"type":"system"}\n']
    assert splitter.feed(b'pe":"result"}\n') == [b'{"type":"result"}\n']
    assert splitter.flush() is None


def test_splitter_flush_returns_the_unterminated_fragment_once() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"line one\npartial") == [b"line one\n"]
    assert splitter.flush() == b"partial"
    assert splitter.flush() is None
    assert splitter.pending_bytes == 0


def test_splitter_keeps_crlf_bytes_and_text_helper_drops_them() -> None:
    lines = LineSplitter().feed(b"first\r\nsecond\n\r\n")
    assert lines == [b"first\r\n", b"second\n", b"\r\n"]
    assert [line_text(line) for line in lines] == ["first", "second", ""]
    assert [strip_line_ending(line) for line in lines] == [b"first", b"second", b""]


def test_splitter_passes_non_json_and_blank_lines_through_untouched() -> None:
    data = b"[paperclip] Pod running: pod-abc\n\n   \nnot json at all {\n"
    assert feed_all([data]) == [
        b"[paperclip] Pod running: pod-abc\n",
        b"\n",
        b"   \n",
        b"not json at all {\n",
    ]


def test_splitter_ignores_empty_chunks() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"") == []
    assert splitter.feed(b"abc") == []
    assert splitter.feed(b"") == []
    assert splitter.feed(b"\n") == [b"abc\n"]


def test_b24_a_multibyte_character_cut_between_chunks_stays_whole() -> None:
    # Seed defect B.24: each read was decoded on its own, turning a cut character into U+FFFD.
    data = "résumé — 日本語 🎉\nzweite Zeile ü\n".encode()
    chunks = [data[i : i + 1] for i in range(len(data))]  # cuts inside every multibyte char
    lines = feed_all(chunks)
    assert [line.decode("utf-8") for line in lines] == ["résumé — 日本語 🎉\n", "zweite Zeile ü\n"]


def test_splitter_keeps_a_one_mebibyte_line_intact() -> None:
    big = json.dumps({"type": "user", "blob": "x" * (1 << 20)}).encode() + b"\n"
    chunks = [
        b'{"type":"system"}\n' + big[:100],
        *[big[i : i + 4096] for i in range(100, len(big), 4096)],
    ]
    lines = feed_all(chunks)
    assert lines == [b'{"type":"system"}\n', big]
    assert len(lines[1]) > 1 << 20


def test_splitter_is_linear_for_a_long_line_fed_in_small_chunks() -> None:
    # 8 MiB in 64-byte chunks is 131072 feeds; re-copying or re-scanning the buffer on each
    # feed would move ~0.5 TB, a linear splitter needs well under a second. Checked as it goes,
    # so a quadratic splitter fails in seconds instead of hanging the suite.
    line = b"y" * (8 << 20) + b"\n"
    splitter = LineSplitter()
    deadline = time.perf_counter() + 10
    out: list[bytes] = []
    for i in range(0, len(line), 64):
        out.extend(splitter.feed(line[i : i + 64]))
        if i % (1 << 20) == 0 and time.perf_counter() > deadline:
            pytest.fail(f"only {i} of {len(line)} bytes fed after 10 s: not linear")
    assert out == [line]


def test_splitter_max_pending_hands_out_an_overlong_unterminated_line() -> None:
    splitter = LineSplitter(max_pending=8)
    assert splitter.feed(b"12345") == []
    assert splitter.feed(b"6789") == [b"123456789"]  # over the bound: handed out unterminated
    assert splitter.feed(b"ab\n") == [b"ab\n"]
    assert "max_pending=8" in repr(splitter)


@pytest.mark.parametrize("bad", [0, -1])
def test_splitter_rejects_a_non_positive_max_pending(bad: int) -> None:
    with pytest.raises(ValueError, match="max_pending must be a positive byte count"):
        LineSplitter(max_pending=bad)


def test_split_lines_matches_the_incremental_splitter() -> None:
    data = b"a\r\nb\n\nc"
    assert split_lines(data) == [b"a\r\n", b"b\n", b"\n", b"c"]
    assert split_lines(b"") == []


def chunkings(data: bytes) -> st.SearchStrategy[list[bytes]]:
    """All ways of cutting `data` into consecutive chunks (empty chunks included)."""
    cuts = st.lists(st.integers(min_value=0, max_value=len(data)), max_size=30)
    return cuts.map(lambda points: _cut(data, sorted(points)))


def _cut(data: bytes, points: list[int]) -> list[bytes]:
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


stream_bytes = st.one_of(
    st.binary(max_size=400),
    st.lists(
        st.one_of(
            st.text(alphabet=st.characters(codec="utf-8"), max_size=40).map(str.encode),
            st.sampled_from([b"\n", b"\r\n", b"\r", "é日🎉".encode(), b'{"type":"result"}']),
        ),
        max_size=30,
    ).map(b"".join),
)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), stream=stream_bytes)
def test_any_chunking_yields_the_same_lines_and_round_trips(
    data: st.DataObject, stream: bytes
) -> None:
    chunks = data.draw(chunkings(stream))
    lines = feed_all(chunks)
    assert lines == split_lines(stream)  # the same lines whatever the chunk boundaries
    assert b"".join(lines) == stream  # byte for byte, CR and all
    assert all(line.endswith(b"\n") for line in lines[:-1])
    assert all(b"\n" not in line[:-1] for line in lines)


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    lines=st.lists(
        st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\n")), max_size=12
    ),
)
def test_any_chunking_of_utf8_text_gives_lines_that_decode_cleanly(
    data: st.DataObject, lines: list[str]
) -> None:
    stream = "".join(line + "\n" for line in lines).encode()
    out = feed_all(data.draw(chunkings(stream)))
    assert [line.decode("utf-8") for line in out] == [line + "\n" for line in lines]


# --------------------------------------------------------------------------- small helpers


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b'{"type":"x"}\n', {"type": "x"}),
        ('  {"a": [1]}  ', {"a": [1]}),
        (b"null\n", None),
        (b"[1,2]", None),
        (b'"text"', None),
        (b"not json", None),
        (b"   \n", None),
    ],
)
def test_decode_object_only_returns_json_objects(line: bytes | str, expected: object) -> None:
    assert decode_object(line) == expected


def test_line_text_replaces_invalid_utf8_instead_of_failing() -> None:
    assert line_text(b"caf\xc3\n") == "caf\ufffd"
    assert line_text("already text\r\n") == "already text"


def test_error_messages_normalises_strings_objects_and_skips_the_rest() -> None:
    errors = [
        "  rate limited ",
        "",
        {"message": "obj error"},
        {"error": "e2"},
        {"code": "E3"},
        {"x": 1},
        42,
        None,
    ]
    assert error_messages(errors) == ("rate limited", "obj error", "e2", "E3", '{"x":1}')
    assert error_messages("not a list") == ()


# --------------------------------------------------------------------------- parser: seed cases


def test_blank_input_gives_an_empty_summary() -> None:
    summary = parse_transcript(b"")
    assert summary.result is None
    assert summary.session_id is None
    assert summary.model is None
    assert summary.summary == ""
    assert not summary.llm_api_empty_response
    assert not summary.truncated_mid_stream
    assert summary.lines == 0


def test_non_json_lines_are_plain_text() -> None:
    summary = parse_transcript(b"hello\nworld\n")
    assert summary.result is None
    assert summary.plain_lines == 2
    assert summary.first_plain_line == "hello"
    assert summary.plain_sample == ("hello", "world")
    assert summary.event_counts == {}


def test_init_event_gives_session_and_model() -> None:
    summary = parse_transcript(fixture("adapter-tests/01-happy-path.jsonl").splitlines()[0])
    assert summary.session_id == "sess_test123"
    assert summary.model == "claude-sonnet-4-6"
    assert summary.saw_init


def test_assistant_text_blocks_make_the_summary_without_a_result() -> None:
    summary = parse_transcript(jsonl(assistant(text("Hello"), text("World"), message_id="m1")))
    assert summary.summary == "Hello\n\nWorld"


def test_thinking_and_tool_use_blocks_never_enter_the_summary() -> None:
    summary = parse_transcript(
        jsonl(
            assistant(
                {"type": "thinking", "thinking": "secret plan"},
                {"type": "tool_use", "name": "Bash", "input": {"command": "ls"}},
                text("Visible"),
                message_id="m1",
            )
        )
    )
    assert summary.summary == "Visible"


def test_result_event_gives_usage_cost_and_summary() -> None:
    summary = parse_transcript(fixture("adapter-tests/01-happy-path.jsonl"))
    assert summary.result is not None
    assert summary.result.subtype == "success"
    assert summary.result.usage == Usage(input_tokens=100, cached_input_tokens=10, output_tokens=50)
    assert summary.result.total_cost_usd == pytest.approx(0.001)
    assert summary.summary == "Done."
    assert summary.result.raw["session_id"] == "sess_test123"


@pytest.mark.parametrize("cost", ["0.5", None, True, "1e999"])
def test_a_cost_that_is_not_a_finite_number_is_none(cost: object) -> None:
    line = '{"type":"result","result":"x","total_cost_usd":%s}\n' % (
        cost if cost == "1e999" else json.dumps(cost)
    )
    summary = parse_transcript(line.encode())
    assert summary.result is not None
    assert summary.result.total_cost_usd is None


def test_falls_back_to_assistant_text_when_the_result_has_no_text() -> None:
    summary = parse_transcript(
        jsonl(
            assistant(text("Fallback text"), message_id="m1"),
            {"type": "result", "subtype": "success"},
        )
    )
    assert summary.result is not None
    assert summary.summary == "Fallback text"


def test_mixed_json_and_plain_lines() -> None:
    data = (
        b"[paperclip] starting\n" + fixture("adapter-tests/01-happy-path.jsonl") + b"stray stderr\n"
    )
    summary = parse_transcript(data)
    assert summary.result is not None
    assert summary.session_id == "sess_test123"
    assert summary.plain_sample == ("[paperclip] starting", "stray stderr")
    assert summary.event_counts == {"system": 1, "result": 1}


def test_a_replayed_assistant_line_does_not_duplicate_summary_text() -> None:
    line = assistant(text("Same words"), message_id="m1")
    summary = parse_transcript(jsonl(line, line))
    assert summary.summary == "Same words"


def test_empty_response_flag_from_usage_output_tokens() -> None:
    summary = parse_transcript(fixture("adapter-tests/03-llm-api-empty-response.jsonl"))
    assert summary.llm_api_empty_response
    assert not summary.truncated_mid_stream


def test_empty_response_flag_from_message_level_output_tokens() -> None:
    event = {
        "type": "assistant",
        "message": {"stop_reason": None, "output_tokens": 0, "content": []},
    }
    assert parse_transcript(jsonl(event)).llm_api_empty_response


def test_no_empty_response_flag_when_stop_reason_is_set_or_absent() -> None:
    assert not parse_transcript(
        jsonl(assistant(stop_reason="end_turn", output_tokens=0))
    ).llm_api_empty_response
    absent = {"type": "assistant", "message": {"usage": {"output_tokens": 0}, "content": []}}
    assert not parse_transcript(jsonl(absent)).llm_api_empty_response


def test_no_empty_response_flag_when_output_tokens_are_positive() -> None:
    summary = parse_transcript(jsonl(assistant(stop_reason=None, output_tokens=3)))
    assert not summary.llm_api_empty_response
    assert summary.truncated_mid_stream


def test_a_result_after_an_empty_response_clears_the_flag() -> None:
    summary = parse_transcript(
        fixture("adapter-tests/03-llm-api-empty-response.jsonl")
        + jsonl({"type": "result", "result": "ok"})
    )
    assert not summary.llm_api_empty_response


def test_assistant_output_without_a_result_is_truncated_mid_stream() -> None:
    summary = parse_transcript(fixture("adapter-tests/04-truncated-mid-stream.jsonl"))
    assert summary.truncated_mid_stream
    assert summary.model == "claude-opus-4-7"
    assert summary.session_id == "sess_trunc"


def test_a_result_after_assistant_output_clears_truncation() -> None:
    summary = parse_transcript(fixture("captured/tool-bypass.jsonl"))
    assert not summary.truncated_mid_stream
    assert summary.assistant_events == 3


def test_zero_output_tokens_is_not_truncation() -> None:
    assert not parse_transcript(jsonl(assistant(output_tokens=0))).truncated_mid_stream


def test_normal_result_has_no_failure_flags() -> None:
    summary = parse_transcript(fixture("captured/text.jsonl"))
    assert not summary.llm_api_empty_response
    assert not summary.truncated_mid_stream


# --------------------------------------------------------------------------- parser: beyond the seed


def test_real_cli_result_fields_are_read() -> None:
    summary = parse_transcript(fixture("captured/tool-denied.jsonl"))
    result = summary.result
    assert result is not None
    assert (result.subtype, result.is_error, result.num_turns) == ("success", False, 2)
    assert result.duration_ms == 197
    assert result.duration_api_ms == 65
    assert result.stop_reason == "end_turn"
    assert result.api_error_status is None
    assert result.total_cost_usd == pytest.approx(0.00037)
    assert [(d.tool_name, d.tool_use_id) for d in result.permission_denials] == [
        ("Bash", "toolu_34b950ddc5d14ad3af425b62")
    ]
    assert result.permission_denials[0].tool_input == {
        "command": "touch /workspace/x",
        "description": "Print hi",
    }
    assert summary.model == "claude-opus-4-8[1m]"


def test_cache_creation_tokens_are_kept_apart_from_cache_reads() -> None:
    summary = parse_transcript(
        jsonl(
            {
                "type": "result",
                "usage": {
                    "input_tokens": 3,
                    "cache_read_input_tokens": 46295,
                    "cache_creation_input_tokens": 523,
                    "output_tokens": 35,
                },
            }
        )
    )
    assert summary.result is not None
    assert summary.result.usage == Usage(
        input_tokens=3, cached_input_tokens=46295, cache_creation_input_tokens=523, output_tokens=35
    )


def test_api_error_status_and_errors_of_failed_results() -> None:
    error400 = parse_transcript(fixture("captured/api-error400.jsonl")).result
    assert error400 is not None
    assert (error400.is_error, error400.api_error_status) == (True, 400)
    max_turns = parse_transcript(fixture("captured/max-turns.jsonl")).result
    assert max_turns is not None
    assert max_turns.errors == ("Reached maximum number of turns (1)",)


def test_summary_is_the_text_of_the_last_assistant_message() -> None:
    # Real CLI: every content block is its own event; a tool turn sits between the messages.
    no_result = b"".join(fixture("captured/tool-bypass.jsonl").splitlines(keepends=True)[:-1])
    summary = parse_transcript(no_result)
    assert summary.result is None
    assert summary.summary == "The command printed: hi"


def test_b18_second_text_block_of_a_message_in_its_own_event_is_kept() -> None:
    # Seed defect B.18: dedup keyed on (message id, block index) dropped the second block when
    # Claude emitted each block as its own event at index 0.
    summary = parse_transcript(
        jsonl(
            assistant(text("First part."), message_id="msg_1"),
            assistant(text("Second part."), message_id="msg_1"),
        )
    )
    assert summary.summary == "First part.\n\nSecond part."


def test_id_less_assistant_events_accumulate_like_one_message() -> None:
    summary = parse_transcript(fixture("adapter-tests/08-assorted-events.jsonl").splitlines()[1])
    assert summary.summary == "Hello"
    both = b"\n".join(fixture("adapter-tests/08-assorted-events.jsonl").splitlines()[1:3])
    assert parse_transcript(both).summary == "Hello\n\n world"


def test_partial_transcript_without_init_takes_model_and_session_from_messages() -> None:
    summary = parse_transcript(fixture("crafted/reattached-mid-run.jsonl"))
    assert not summary.saw_init
    assert summary.model == "claude-opus-4-8"
    assert summary.session_id == "ffe9d119-b1d3-43f4-ab2a-b298f4e369b7"
    assert summary.truncated_mid_stream


def test_synthetic_model_of_api_error_messages_is_not_a_model() -> None:
    lines = fixture("captured/auth-401.jsonl").splitlines()
    summary = parse_transcript(lines[1])  # the synthetic assistant message alone
    assert summary.model is None


def test_init_model_wins_over_message_model() -> None:
    summary = parse_transcript(fixture("captured/text.jsonl"))
    assert summary.model == "claude-opus-4-8[1m]"


def test_session_id_last_non_empty_value_wins() -> None:
    summary = parse_transcript(
        jsonl(
            {"type": "system", "subtype": "init", "session_id": "s1"},
            assistant(text("x"), session_id=""),
            {"type": "result", "session_id": "s2"},
        )
    )
    assert summary.session_id == "s2"


def test_session_id_from_init_when_there_is_no_result() -> None:
    summary = parse_transcript(fixture("adapter-tests/06-rate-limit-event-no-result.jsonl"))
    assert summary.session_id == "sess_abc"  # never the rate_limit_event's unrelated id


def test_last_rate_limit_event_is_kept() -> None:
    summary = parse_transcript(fixture("crafted/rate-limit-rejected.jsonl"))
    assert summary.last_rate_limit == RateLimit(
        status="rejected", limit_type="five_hour", resets_at=1777056000
    )


@pytest.mark.parametrize("line", [b"null", b"[]", b"[1, 2]", b"42", b'"a string"', b"true"])
def test_non_object_json_lines_are_plain_text(line: bytes) -> None:
    summary = parse_transcript(line + b"\n")
    assert summary.plain_lines == 1
    assert summary.first_plain_line == line.decode()
    assert summary.event_counts == {}


def test_objects_without_a_type_are_plain_text_and_unknown_types_are_counted_only() -> None:
    summary = parse_transcript(
        jsonl(
            {"no": "type"}, {"type": 5}, {"type": "stream_event"}, {"type": "future_kind", "x": 1}
        )
    )
    assert summary.plain_lines == 2
    assert summary.event_counts == {"stream_event": 1, "future_kind": 1}


def test_partial_messages_stream_events_are_ignored() -> None:
    summary = parse_transcript(fixture("captured/tool-partial.jsonl"))
    assert summary.event_counts["stream_event"] == 16
    assert summary.summary == "The command printed: hi"


def test_wrong_typed_fields_are_treated_as_missing() -> None:
    summary = parse_transcript(
        jsonl(
            {"type": "system", "subtype": "init", "session_id": 5, "model": ["x"]},
            {"type": "assistant", "message": "not an object"},
            {"type": "assistant", "message": {"content": "not a list", "usage": "nope", "id": 3}},
            {
                "type": "result",
                "is_error": "true",
                "usage": {"input_tokens": "10", "output_tokens": -4},
                "result": 7,
            },
        )
    )
    assert summary.session_id is None
    assert summary.model is None
    assert summary.event_counts == {"system": 1, "assistant": 2, "result": 1}
    result = summary.result
    assert result is not None
    assert result.is_error is False  # only a real boolean true counts
    assert result.usage == Usage()
    assert result.text is None


def test_invalid_utf8_and_crlf_lines_do_not_break_parsing() -> None:
    data = b"caf\xc3 broken\r\n" + fixture("adapter-tests/01-happy-path.jsonl").replace(
        b"\n", b"\r\n"
    )
    summary = parse_transcript(data)
    assert summary.result is not None
    assert summary.first_plain_line == "caf\ufffd broken"


def test_a_one_mebibyte_assistant_line_is_parsed_whole() -> None:
    big = "word " * 250_000
    summary = parse_transcript(jsonl(assistant(text(big), message_id="m1")))
    assert summary.summary == big.strip()
    assert summary.bytes > 1 << 20


def test_result_glued_to_stderr_text_is_recovered() -> None:
    result_line = fixture("captured/text.jsonl").splitlines()[-1]
    data = b"warning: something odd" + result_line + b"\n"
    summary = parse_transcript(data)
    assert summary.result is not None
    assert summary.result_recovered
    assert summary.result.text == "hi"
    assert summary.summary == "hi"


def test_recover_result_event_ignores_trailing_garbage_and_non_results() -> None:
    assert recover_result_event('xx{"type":"result","result":"ok"}yy') == {
        "type": "result",
        "result": "ok",
    }
    assert recover_result_event('{"type":"assistant"}{"type": "result"}') == {"type": "result"}
    assert recover_result_event('{"type":"result","result":') is None
    assert recover_result_event("no result here") is None


def test_a_valid_json_line_merely_containing_a_result_is_not_recovered() -> None:
    nested = {"wrapper": {"type": "result", "result": "quoted"}}
    summary = parse_transcript(jsonl(nested))
    assert summary.result is None
    assert not summary.result_recovered


def test_last_result_wins() -> None:
    summary = parse_transcript(fixture("adapter-tests/09-error-results.jsonl"))
    assert summary.result is not None
    assert summary.result.text == "Task completed successfully"


def test_counts_of_lines_bytes_and_events() -> None:
    data = fixture("adapter-tests/08-assorted-events.jsonl") + b"\n  \nplain\n"
    summary = parse_transcript(data)
    assert summary.lines == 12
    assert summary.nonempty_lines == 10
    assert summary.bytes == len(data)
    assert summary.plain_lines == 1
    assert summary.event_counts == {"system": 1, "assistant": 4, "user": 3, "result": 1}


def test_plain_sample_keeps_first_and_last_lines_without_repeats() -> None:
    data = b"".join(b"line %d\n" % i for i in range(25))
    summary = parse_transcript(data)
    assert summary.plain_sample == tuple(f"line {i}" for i in [*range(10), *range(15, 25)])
    few = parse_transcript(b"a\nb\nc\n")
    assert few.plain_sample == ("a", "b", "c")
    overlap = parse_transcript(b"".join(b"l%d\n" % i for i in range(13)))
    assert overlap.plain_sample == tuple(f"l{i}" for i in range(13))


def test_long_plain_lines_are_cut_in_the_summary() -> None:
    summary = parse_transcript(b"E" * 5000 + b"\n")
    assert summary.first_plain_line == "E" * 1000


def test_bytes_str_and_line_iterables_parse_the_same() -> None:
    data = fixture("captured/resume.jsonl")
    from_bytes = parse_transcript(data)
    assert parse_transcript(data.decode()) == from_bytes
    assert parse_transcript(iter(data.splitlines(keepends=True))) == from_bytes
    without_endings = parse_transcript([line.decode() for line in data.splitlines()])
    assert without_endings.bytes == from_bytes.bytes - from_bytes.lines  # no "\n" to count
    assert msgspec.structs.replace(without_endings, bytes=from_bytes.bytes) == from_bytes


def test_str_input_is_not_split_on_unicode_line_separators() -> None:
    line = json.dumps({"type": "result", "result": "a\u2028b"}, ensure_ascii=False)
    summary = parse_transcript(line + "\n")
    assert summary.result is not None
    assert summary.result.text == "a\u2028b"


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_incremental_feeding_through_the_splitter_matches_whole_parsing(
    data: st.DataObject,
) -> None:
    stream = fixture("captured/tool-partial.jsonl") + b"stderr tail without newline"
    splitter = LineSplitter()
    parser = TranscriptParser()
    for chunk in data.draw(chunkings(stream)):
        parser.feed(splitter.feed(chunk))
    rest = splitter.flush()
    if rest is not None:
        parser.feed_line(rest)
    assert parser.summary() == parse_transcript(stream)


def test_a_long_run_is_folded_line_by_line() -> None:
    parser = TranscriptParser()
    tool_turn = fixture("captured/tool-bypass.jsonl").splitlines(keepends=True)[1:5]
    for _ in range(25_000):  # 100k lines
        parser.feed(tool_turn)
    assert "lines=100000" in repr(parser)
    summary = parser.summary()
    assert summary.lines == 100_000
    assert summary.event_counts == {"assistant": 75_000, "user": 25_000}
    assert summary.summary == "The command printed: hi"
    assert summary.truncated_mid_stream


def test_module_exports_are_explicit() -> None:
    assert set(streamjson.__all__) == {
        name
        for name, value in vars(streamjson).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == streamjson.__name__
    }
