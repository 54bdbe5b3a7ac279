"""The Messages API's wire shapes: streamed SSE events, the whole message, the error body.

The event order is the real API's: message_start, then per content block a
content_block_start, deltas and content_block_stop (one `ping` after the first block opens),
then message_delta with the stop reason and output usage, then message_stop. Text and tool
input JSON are split over several deltas, as the API does, so a client that only handles one
delta per block is caught.
"""

from __future__ import annotations

import math
import random
from typing import Any

import msgspec

from kubesim.messages_stub import replies

# Long enough to look like tokens arriving, short enough that every reply has several deltas.
DELTA_CHARS = 24
STUB_INPUT_TOKENS = 12


class Usage(msgspec.Struct):
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0


class TextBlock(msgspec.Struct, tag_field="type", tag="text"):
    text: str


class ToolUseBlock(msgspec.Struct, tag_field="type", tag="tool_use"):
    id: str
    name: str
    input: dict[str, Any]


ContentBlock = TextBlock | ToolUseBlock


class Message(msgspec.Struct, kw_only=True):
    # Field order is the API's key order.
    id: str
    type: str = "message"
    role: str = "assistant"
    model: str
    content: list[ContentBlock]
    stop_reason: str | None
    stop_sequence: str | None = None
    usage: Usage


class TextDelta(msgspec.Struct, tag_field="type", tag="text_delta"):
    text: str


class InputJsonDelta(msgspec.Struct, tag_field="type", tag="input_json_delta"):
    partial_json: str


class MessageStart(msgspec.Struct, tag_field="type", tag="message_start"):
    message: Message


class ContentBlockStart(msgspec.Struct, tag_field="type", tag="content_block_start"):
    index: int
    content_block: ContentBlock


class Ping(msgspec.Struct, tag_field="type", tag="ping"):
    pass


class ContentBlockDelta(msgspec.Struct, tag_field="type", tag="content_block_delta"):
    index: int
    delta: TextDelta | InputJsonDelta


class ContentBlockStop(msgspec.Struct, tag_field="type", tag="content_block_stop"):
    index: int


class StopInfo(msgspec.Struct):
    stop_reason: str
    stop_sequence: str | None = None


class OutputUsage(msgspec.Struct):
    output_tokens: int


class MessageDelta(msgspec.Struct, tag_field="type", tag="message_delta"):
    delta: StopInfo
    usage: OutputUsage


class MessageStop(msgspec.Struct, tag_field="type", tag="message_stop"):
    pass


StreamEvent = (
    MessageStart
    | ContentBlockStart
    | Ping
    | ContentBlockDelta
    | ContentBlockStop
    | MessageDelta
    | MessageStop
)


class ErrorDetail(msgspec.Struct):
    type: str
    message: str


class ErrorBody(msgspec.Struct, tag_field="type", tag="error"):
    error: ErrorDetail
    request_id: str


class IdSource:
    """Message, tool-use and request ids in the API's formats, reproducible from a seed."""

    def __init__(self, seed: int = 0) -> None:
        self._random = random.Random(seed)

    def _hex(self, chars: int) -> str:
        return f"{self._random.getrandbits(chars * 4):0{chars}x}"

    def message_id(self) -> str:
        return f"msg_stub_{self._hex(20)}"

    def tool_use_id(self) -> str:
        return f"toolu_{self._hex(24)}"

    def request_id(self) -> str:
        return f"req_stub_{self._hex(12)}"


def output_tokens(blocks: list[ContentBlock]) -> int:
    """A plausible output token count: about four characters a token, at least one."""
    chars = sum(len(b.text) if isinstance(b, TextBlock) else len(_json(b.input)) for b in blocks)
    return max(1, math.ceil(chars / 4))


def build_message(reply: replies.TextReply | replies.ToolUseReply, *, model: str,
                  ids: IdSource) -> Message:
    """The complete assistant message for a successful reply."""
    blocks: list[ContentBlock]
    if isinstance(reply, replies.TextReply):
        blocks = [TextBlock(reply.text)]
        stop_reason = "end_turn"
    else:
        tool_input = {"command": reply.command, "description": reply.description}
        blocks = [
            TextBlock(reply.lead_text),
            ToolUseBlock(id=ids.tool_use_id(), name="Bash", input=tool_input),
        ]
        stop_reason = "tool_use"
    usage = Usage(input_tokens=STUB_INPUT_TOKENS, output_tokens=output_tokens(blocks))
    return Message(id=ids.message_id(), model=model, content=blocks, stop_reason=stop_reason,
                   usage=usage)


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def split_parts(text: str, size: int = DELTA_CHARS) -> list[str]:
    """Cut `text` into deltas of at most `size` characters, at least two when it has two."""
    if len(text) < 2:
        return [text]
    size = min(size, math.ceil(len(text) / 2))
    return [text[i : i + size] for i in range(0, len(text), size)]


def stream_events(message: Message) -> list[StreamEvent]:
    """The SSE events that stream `message`, in the API's order."""
    opening = Message(id=message.id, model=message.model, content=[], stop_reason=None,
                      usage=Usage(input_tokens=message.usage.input_tokens, output_tokens=1))
    events: list[StreamEvent] = [MessageStart(opening)]
    for index, block in enumerate(message.content):
        deltas: list[TextDelta | InputJsonDelta]
        if isinstance(block, TextBlock):
            events.append(ContentBlockStart(index, TextBlock("")))
            deltas = [TextDelta(part) for part in split_parts(block.text)]
        else:
            events.append(ContentBlockStart(index, ToolUseBlock(block.id, block.name, {})))
            deltas = [InputJsonDelta(part) for part in split_parts(_json(block.input))]
        if index == 0:
            events.append(Ping())
        events.extend(ContentBlockDelta(index, delta) for delta in deltas)
        events.append(ContentBlockStop(index))
    assert message.stop_reason is not None, "a finished message always has a stop reason"
    events.append(MessageDelta(StopInfo(message.stop_reason),
                               OutputUsage(message.usage.output_tokens)))
    events.append(MessageStop())
    return events


def encode_event(event: StreamEvent) -> bytes:
    """One SSE frame: `event: <type>`, `data: <json>`, blank line."""
    name = type(event).__struct_config__.tag
    return b"event: " + str(name).encode() + b"\ndata: " + msgspec.json.encode(event) + b"\n\n"


def error_body(reply: replies.ErrorReply, *, request_id: str) -> bytes:
    """The API's JSON error body for `reply`."""
    body = ErrorBody(error=ErrorDetail(type=reply.error_type, message=reply.message),
                     request_id=request_id)
    return msgspec.json.encode(body)
