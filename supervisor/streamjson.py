"""Claude Code stream-json: reassemble output lines from byte chunks and read a run's transcript.

Claude Code (`--output-format stream-json --verbose`) writes one JSON event per line. What reaches
the supervisor is a byte stream cut at arbitrary points (pod-log chunks, file reads), mixed with
plain-text lines (stderr merged into the pod log, shell messages, our own status lines). This
module is the pure part of reading it:

* `LineSplitter` turns chunks into complete lines, working on bytes so a multi-byte UTF-8
  character is never split and the raw bytes (CRLF included) are kept exactly.
* `TranscriptParser` folds lines, one at a time, into a `TranscriptSummary`: the result event,
  session id, model, the fallback summary text and the flags the classifier needs. It keeps no
  per-line state, so a 100k-line run costs the same memory as a 10-line one.

Parsing is tolerant by design: unknown event types and fields are ignored, lines that are not a
JSON object are plain text, and a wrong-typed field is treated as missing rather than failing
the line. Nothing here does I/O.
"""

from __future__ import annotations

import collections
import json
import math
import re
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, TypeVar

import msgspec

__all__ = [
    "LineSplitter",
    "PermissionDenial",
    "RateLimit",
    "ResultEvent",
    "TranscriptParser",
    "TranscriptSummary",
    "Usage",
    "decode_object",
    "error_messages",
    "line_text",
    "parse_transcript",
    "read_result_event",
    "recover_result_event",
    "split_lines",
    "strip_line_ending",
]

# Models Claude Code reports for messages it made up itself (API errors), not a real model.
_SYNTHETIC_MODEL = "<synthetic>"
# How many plain-text lines from the start and from the end of a run the summary keeps, so the
# classifier can read stderr (e.g. "No conversation found ...") without holding all of stdout.
_PLAIN_SAMPLE = 10
# Plain-text lines kept in the summary are cut to this many characters.
_PLAIN_LINE_MAX_CHARS = 1000
# A result event glued to other text on the same line (interleaved writes): where it starts.
_RESULT_START = re.compile(r'\{\s*"type"\s*:\s*"result"')


# --------------------------------------------------------------------------- line splitting


class LineSplitter:
    """Reassemble complete lines from arbitrarily cut chunks of bytes.

    `feed` returns every line completed by the chunk, each ending in `b"\\n"` (a CRLF line keeps
    its `\\r`); `flush` returns the unterminated rest at end of stream. Concatenating everything
    returned gives back the input byte for byte. The split is on the byte 0x0A, which never
    occurs inside a multi-byte UTF-8 sequence, so no character is ever cut in two.

    Args:
        max_pending: if set, an unterminated line that grows beyond this many bytes is handed
            out as it is (without a line ending) instead of being buffered further, bounding
            memory against a writer that never ends its line. Default: no bound.
    """

    __slots__ = ("_max_pending", "_pending")

    def __init__(self, *, max_pending: int | None = None) -> None:
        if max_pending is not None and max_pending < 1:
            raise ValueError(f"max_pending must be a positive byte count, got {max_pending!r}")
        self._max_pending = max_pending
        self._pending = bytearray()

    @property
    def pending_bytes(self) -> int:
        """Bytes of the current unterminated line held back until its newline arrives."""
        return len(self._pending)

    def __repr__(self) -> str:
        return f"<LineSplitter pending_bytes={len(self._pending)} max_pending={self._max_pending}>"

    def feed(self, chunk: bytes) -> list[bytes]:
        """Add a chunk; return the lines it completes (each with its `\\n`), possibly none."""
        last_newline = chunk.rfind(b"\n")
        if last_newline < 0:
            # Only search the new chunk, never the whole buffer: a long line arriving in small
            # chunks stays linear in its length.
            self._pending += chunk
            return self._overflow()
        if self._pending:
            self._pending += chunk[: last_newline + 1]
            complete = bytes(self._pending)
        else:
            complete = bytes(chunk[: last_newline + 1])
        self._pending = bytearray(chunk[last_newline + 1 :])
        lines: list[bytes] = []
        start = 0
        while (newline := complete.find(b"\n", start)) >= 0:
            lines.append(complete[start : newline + 1])
            start = newline + 1
        lines.extend(self._overflow())
        return lines

    def flush(self) -> bytes | None:
        """End of stream: return the unterminated last line, or None if there is none."""
        if not self._pending:
            return None
        rest = bytes(self._pending)
        self._pending = bytearray()
        return rest

    def _overflow(self) -> list[bytes]:
        if self._max_pending is None or len(self._pending) <= self._max_pending:
            return []
        piece = bytes(self._pending)
        self._pending = bytearray()
        return [piece]


def split_lines(data: bytes) -> list[bytes]:
    """Split a whole buffer into lines exactly as `LineSplitter` would (last one may lack `\\n`)."""
    splitter = LineSplitter()
    lines = splitter.feed(data)
    rest = splitter.flush()
    if rest is not None:
        lines.append(rest)
    return lines


def strip_line_ending(line: bytes) -> bytes:
    """Return the line without its trailing `\\n` or `\\r\\n` (other bytes untouched)."""
    if line.endswith(b"\r\n"):
        return line[:-2]
    if line.endswith(b"\n"):
        return line[:-1]
    return line


def line_text(line: bytes | str) -> str:
    """Return a line as text without its line ending; invalid UTF-8 becomes U+FFFD."""
    if isinstance(line, str):
        return line.removesuffix("\n").removesuffix("\r")
    return strip_line_ending(line).decode("utf-8", errors="replace")


def decode_object(line: bytes | str) -> dict[str, Any] | None:
    """Decode a line holding one JSON object; None for blank, non-JSON or non-object lines."""
    stripped = line.strip()
    if not stripped:
        return None
    try:
        value = msgspec.json.decode(stripped)
    except msgspec.DecodeError:
        return None
    return value if isinstance(value, dict) else None


def recover_result_event(line: bytes | str) -> dict[str, Any] | None:
    """Find a result event inside a line that is not itself valid JSON.

    Interleaved writes (stderr text without a newline, a writer killed mid-line) can glue a
    complete result event to other bytes. This looks for `{"type":"result"` and decodes one
    JSON object from there, ignoring whatever follows it.
    """
    text = line.decode("utf-8", errors="replace") if isinstance(line, bytes) else line
    decoder = json.JSONDecoder()
    for match in _RESULT_START.finditer(text):
        try:
            value, _end = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(value, dict) and value.get("type") == "result":
            return value
    return None


# --------------------------------------------------------------------------- parsed values


class Usage(msgspec.Struct, frozen=True, kw_only=True):
    """Token counts of a run, from the result event's `usage` (missing or bad values count 0)."""

    input_tokens: int = 0
    cached_input_tokens: int = 0  # `cache_read_input_tokens`: input served from the prompt cache
    cache_creation_input_tokens: int = 0
    output_tokens: int = 0


class PermissionDenial(msgspec.Struct, frozen=True, kw_only=True):
    """A tool call Claude was not allowed to make (`permission_denials` of the result)."""

    tool_name: str
    tool_use_id: str | None = None
    tool_input: Any = None


class RateLimit(msgspec.Struct, frozen=True, kw_only=True):
    """The latest `rate_limit_event` of a run (status `allowed`, `allowed_warning`, `rejected`)."""

    status: str | None = None
    limit_type: str | None = None
    resets_at: float | None = None  # Unix seconds


class ResultEvent(msgspec.Struct, frozen=True, kw_only=True):
    """Claude's final `result` event, with loosely typed fields normalised.

    `raw` is the event exactly as decoded; it becomes the run's `resultJson`.
    """

    subtype: str | None
    is_error: bool
    text: str | None
    session_id: str | None
    stop_reason: str | None
    usage: Usage
    total_cost_usd: float | None
    num_turns: int | None
    duration_ms: int | None
    duration_api_ms: int | None
    api_error_status: int | None
    errors: tuple[str, ...]
    permission_denials: tuple[PermissionDenial, ...]
    raw: dict[str, Any]


class TranscriptSummary(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the supervisor needs from a run's output, without the output itself."""

    result: ResultEvent | None
    # The result was only found inside a line that was not valid JSON on its own.
    result_recovered: bool
    session_id: str | None
    model: str | None
    saw_init: bool
    # The result's text, else the text blocks of the last assistant message (tools, thinking
    # and earlier messages never enter it).
    summary: str
    # An assistant event had `stop_reason: null` and 0 output tokens and no result followed.
    llm_api_empty_response: bool
    # An assistant event produced output tokens and no result event followed it.
    truncated_mid_stream: bool
    assistant_events: int
    last_rate_limit: RateLimit | None
    # First non-blank line that is not a typed JSON event: what a failing CLI printed.
    first_plain_line: str | None
    # The first and last few plain-text lines (stderr, shell messages), each cut short.
    plain_sample: tuple[str, ...]
    lines: int
    nonempty_lines: int
    bytes: int
    plain_lines: int
    event_counts: dict[str, int]


# --------------------------------------------------------------------------- decoding shapes
# Loose shapes: every field is Any so a wrong-typed value never rejects a line; the helpers
# below keep only values of the expected type.


class _Head(msgspec.Struct):
    type: Any = None


class _System(msgspec.Struct):
    subtype: Any = None
    session_id: Any = None
    model: Any = None


class _Message(msgspec.Struct):
    id: Any = None
    model: Any = None
    stop_reason: Any = msgspec.UNSET  # UNSET = absent; None = an explicit JSON null
    output_tokens: Any = None
    usage: Any = None
    content: Any = None


class _Assistant(msgspec.Struct):
    session_id: Any = None
    message: _Message | None = None


class _RateLimitEvent(msgspec.Struct):
    rate_limit_info: Any = None


_T = TypeVar("_T")

_HEAD_DECODER = msgspec.json.Decoder(_Head)
_SYSTEM_DECODER = msgspec.json.Decoder(_System)
_ASSISTANT_DECODER = msgspec.json.Decoder(_Assistant)
_RATE_LIMIT_DECODER = msgspec.json.Decoder(_RateLimitEvent)
_OBJECT_DECODER = msgspec.json.Decoder(dict[str, Any])


def _decode(decoder: msgspec.json.Decoder[_T], data: bytes) -> _T:
    """Decode with msgspec; on refusal retry through the stdlib decoder.

    msgspec rejects numbers beyond float range (`1e999`), which `json` reads as infinity; one
    odd number must not cost us a whole event. Raises `msgspec.DecodeError` if both refuse.
    """
    try:
        return decoder.decode(data)
    except msgspec.DecodeError:
        try:
            value = json.loads(data)
        except ValueError as exc:
            raise msgspec.DecodeError(str(exc)) from exc
        return msgspec.convert(value, decoder.type)


def _text(value: Any) -> str | None:
    """A non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def _number(value: Any) -> float | None:
    """A finite JSON number (booleans excluded), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _whole(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None


def _count(value: Any) -> int:
    number = _whole(value)
    return number if number is not None and number > 0 else 0


def error_messages(errors: Any) -> tuple[str, ...]:
    """Readable messages from a result's `errors` array.

    Strings are kept (trimmed, non-empty); objects give their first non-empty `message`,
    `error` or `code`, else their compact JSON; anything else is skipped.
    """
    if not isinstance(errors, list):
        return ()
    messages: list[str] = []
    for entry in errors:
        if isinstance(entry, str):
            if entry.strip():
                messages.append(entry.strip())
        elif isinstance(entry, dict):
            for key in ("message", "error", "code"):
                value = entry.get(key)
                if isinstance(value, str) and value.strip():
                    messages.append(value.strip())
                    break
            else:
                messages.append(msgspec.json.encode(entry).decode())
    return tuple(messages)


def _usage(value: Any) -> Usage:
    if not isinstance(value, dict):
        return Usage()
    return Usage(
        input_tokens=_count(value.get("input_tokens")),
        cached_input_tokens=_count(value.get("cache_read_input_tokens")),
        cache_creation_input_tokens=_count(value.get("cache_creation_input_tokens")),
        output_tokens=_count(value.get("output_tokens")),
    )


def _permission_denials(value: Any) -> tuple[PermissionDenial, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(
        PermissionDenial(
            tool_name=_text(entry.get("tool_name")) or "unknown",
            tool_use_id=_text(entry.get("tool_use_id")),
            tool_input=entry.get("tool_input"),
        )
        for entry in value
        if isinstance(entry, dict)
    )


def read_result_event(raw: dict[str, Any]) -> ResultEvent:
    """Normalise a decoded `result` event object (as found in the transcript) into a `ResultEvent`."""
    return ResultEvent(
        subtype=_text(raw.get("subtype")),
        is_error=raw.get("is_error") is True,
        text=raw.get("result") if isinstance(raw.get("result"), str) else None,
        session_id=_text(raw.get("session_id")),
        stop_reason=_text(raw.get("stop_reason")),
        usage=_usage(raw.get("usage")),
        total_cost_usd=_number(raw.get("total_cost_usd")),
        num_turns=_whole(raw.get("num_turns")),
        duration_ms=_whole(raw.get("duration_ms")),
        duration_api_ms=_whole(raw.get("duration_api_ms")),
        api_error_status=_whole(raw.get("api_error_status")),
        errors=error_messages(raw.get("errors")),
        permission_denials=_permission_denials(raw.get("permission_denials")),
        raw=raw,
    )


def _output_tokens(message: _Message) -> int | None:
    """Output tokens of an assistant message: top-level field first, then `usage`."""
    direct = _whole(message.output_tokens)
    if direct is not None:
        return direct
    if isinstance(message.usage, dict):
        return _whole(message.usage.get("output_tokens"))
    return None


# --------------------------------------------------------------------------- the parser


class TranscriptParser:
    """Fold stream-json lines, fed as they arrive, into a `TranscriptSummary`.

    Feed every line of the run (bytes or str, with or without its line ending) to `feed_line`,
    then read `summary()` at any time. Memory does not grow with the number of lines.
    """

    def __init__(self) -> None:
        self._result: ResultEvent | None = None
        self._result_recovered = False
        self._session_id: str | None = None
        self._init_model: str | None = None
        self._message_model: str | None = None
        self._saw_init = False
        self._empty_response = False
        self._content_seen = False
        self._assistant_events = 0
        self._rate_limit: RateLimit | None = None
        # Text blocks of the latest assistant message that had text, deduplicated.
        self._summary_message: Any = None
        self._summary_texts: list[str] = []
        self._first_plain: str | None = None
        self._plain_head: list[str] = []
        self._plain_tail: collections.deque[str] = collections.deque(maxlen=_PLAIN_SAMPLE)
        self._lines = 0
        self._nonempty = 0
        self._bytes = 0
        self._plain = 0
        self._counts: dict[str, int] = {}

    def __repr__(self) -> str:
        return (
            f"<TranscriptParser lines={self._lines} events={sum(self._counts.values())} "
            f"result={self._result is not None}>"
        )

    def feed(self, lines: Iterable[bytes | str]) -> None:
        """Feed several lines in order."""
        for line in lines:
            self.feed_line(line)

    def feed_line(self, line: bytes | str) -> None:
        """Feed one line of output."""
        raw = line.encode("utf-8", errors="replace") if isinstance(line, str) else line
        self._lines += 1
        self._bytes += len(raw)
        stripped = raw.strip()
        if not stripped:
            return
        self._nonempty += 1
        try:
            event_type = _HEAD_DECODER.decode(stripped).type
        except msgspec.DecodeError:  # not JSON, or JSON but not an object
            self._on_plain(stripped, is_json=_is_json(stripped))
            return
        if not isinstance(event_type, str) or not event_type:
            self._on_plain(stripped, is_json=True)
            return
        self._counts[event_type] = self._counts.get(event_type, 0) + 1
        handler = self._HANDLERS.get(event_type)
        if handler is not None:
            try:
                handler(self, stripped)
            except msgspec.DecodeError:
                pass  # a known event type with a malformed body: count it, learn nothing

    def summary(self) -> TranscriptSummary:
        """The state so far, as an immutable summary."""
        result = self._result
        if result is not None and result.text and result.text.strip():
            summary = result.text.strip()
        else:
            summary = "\n\n".join(self._summary_texts).strip()
        head = tuple(self._plain_head)
        tail_count = min(len(self._plain_tail), self._plain - len(head))
        tail = tuple(self._plain_tail)[len(self._plain_tail) - tail_count :] if tail_count else ()
        return TranscriptSummary(
            result=result,
            result_recovered=self._result_recovered,
            session_id=self._session_id,
            model=self._init_model or self._message_model,
            saw_init=self._saw_init,
            summary=summary,
            llm_api_empty_response=self._empty_response,
            truncated_mid_stream=self._content_seen,
            assistant_events=self._assistant_events,
            last_rate_limit=self._rate_limit,
            first_plain_line=self._first_plain,
            plain_sample=head + tail,
            lines=self._lines,
            nonempty_lines=self._nonempty,
            bytes=self._bytes,
            plain_lines=self._plain,
            event_counts=dict(self._counts),
        )

    # -- handlers, one per event type we learn from

    def _on_system(self, data: bytes) -> None:
        event = _decode(_SYSTEM_DECODER, data)
        if event.subtype != "init":
            return
        self._saw_init = True
        self._remember_session(event.session_id)
        self._init_model = _text(event.model) or self._init_model

    def _on_assistant(self, data: bytes) -> None:
        event = _decode(_ASSISTANT_DECODER, data)
        self._assistant_events += 1
        self._remember_session(event.session_id)
        message = event.message
        if message is None:
            return
        model = _text(message.model)
        if model and model != _SYNTHETIC_MODEL and self._message_model is None:
            self._message_model = model
        output_tokens = _output_tokens(message)
        if message.stop_reason is None and output_tokens == 0:
            self._empty_response = True
        if output_tokens is not None and output_tokens > 0:
            self._content_seen = True
        self._collect_text(message)

    def _on_result(self, data: bytes) -> None:
        self._take_result(_decode(_OBJECT_DECODER, data), recovered=False)

    def _on_rate_limit(self, data: bytes) -> None:
        info = _decode(_RATE_LIMIT_DECODER, data).rate_limit_info
        if isinstance(info, dict):
            self._rate_limit = RateLimit(
                status=_text(info.get("status")),
                limit_type=_text(info.get("rateLimitType")),
                resets_at=_number(info.get("resetsAt")),
            )

    _HANDLERS: ClassVar[dict[str, Callable[[TranscriptParser, bytes], None]]] = {
        "system": _on_system,
        "assistant": _on_assistant,
        "result": _on_result,
        "rate_limit_event": _on_rate_limit,
    }

    # -- helpers

    def _remember_session(self, value: Any) -> None:
        self._session_id = _text(value) or self._session_id

    def _take_result(self, raw: dict[str, Any], *, recovered: bool) -> None:
        result = read_result_event(raw)
        self._result = result
        self._result_recovered = recovered
        # A result closes the run: earlier empty or cut-off messages did not end it.
        self._empty_response = False
        self._content_seen = False
        self._remember_session(result.session_id)

    def _collect_text(self, message: _Message) -> None:
        if not isinstance(message.content, list):
            return
        texts = [
            block["text"]
            for block in message.content
            if isinstance(block, dict)
            and block.get("type") == "text"
            and isinstance(block.get("text"), str)
            and block["text"]
        ]
        if not texts:
            return
        # Claude Code emits each content block of a message as its own event with the same
        # message id, so group by id; a replayed block of the same message is kept once.
        message_id = message.id if isinstance(message.id, str) else None
        if message_id != self._summary_message:
            self._summary_message = message_id
            self._summary_texts = []
        for text in texts:
            if text not in self._summary_texts:
                self._summary_texts.append(text)

    def _on_plain(self, stripped: bytes, *, is_json: bool) -> None:
        self._plain += 1
        text = stripped.decode("utf-8", errors="replace")
        short = text[:_PLAIN_LINE_MAX_CHARS]
        if self._first_plain is None:
            self._first_plain = short
        if len(self._plain_head) < _PLAIN_SAMPLE:
            self._plain_head.append(short)
        self._plain_tail.append(short)
        if not is_json and '"result"' in text:
            recovered = recover_result_event(text)
            if recovered is not None:
                self._take_result(recovered, recovered=True)


def _is_json(data: bytes) -> bool:
    try:
        msgspec.json.decode(data)
    except msgspec.DecodeError:
        return False
    return True


def parse_transcript(output: bytes | str | Iterable[bytes | str]) -> TranscriptSummary:
    """Parse a whole run's output: one buffer (bytes or str) or an iterable of lines."""
    parser = TranscriptParser()
    if isinstance(output, bytes):
        parser.feed(split_lines(output))
    elif isinstance(output, str):
        # Not str.splitlines(): it also splits on U+2028 and friends, which JSON strings may hold.
        parser.feed(split_lines(output.encode()))
    else:
        parser.feed(output)
    return parser.summary()
