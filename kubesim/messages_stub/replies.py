"""What the Messages API stub answers, decided from each request alone.

The stub is stateless per request on purpose: Claude Code resends the whole conversation on
every call (and on `--resume`), so the last message says where the run is. A fresh user prompt
gets the script's first reply; a tool result gets a short text turn that quotes the tool's
output, which ends the run the way a real model would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

DEFAULT_MODEL = "claude-opus-4-8"
AFTER_TOOL_TEMPLATE = "The command printed: {output}"


@dataclass(frozen=True)
class TextReply:
    """One assistant turn made of a single text block (stop_reason end_turn)."""

    text: str


@dataclass(frozen=True)
class ToolUseReply:
    """A text block followed by a Bash tool_use block (stop_reason tool_use)."""

    command: str
    description: str = "Run the command"
    lead_text: str = "Running it."


@dataclass(frozen=True)
class ErrorReply:
    """A non-streamed API error: HTTP status plus the API's JSON error body."""

    status: int = 400
    error_type: str = "invalid_request_error"
    message: str = "stub: scripted bad request"


Reply = TextReply | ToolUseReply | ErrorReply


class RequestMessage(msgspec.Struct):
    """One entry of the request's `messages` array (content is a string or a block list)."""

    role: str
    content: str | list[dict[str, Any]]


class MessagesRequest(msgspec.Struct):
    """The parts of a `POST /v1/messages` body the stub reads; other fields are ignored."""

    model: str
    messages: list[RequestMessage]
    stream: bool = False
    max_tokens: int = 0


@dataclass(frozen=True)
class Script:
    """A scripted conversation: the reply to a fresh prompt and the text after a tool result.

    Build one with `Script.text`, `Script.tool` or `Script.error`.
    """

    first: Reply
    after_tool: str = AFTER_TOOL_TEMPLATE

    @classmethod
    def text(cls, text: str = "hi") -> Script:
        """Answer every prompt with `text`."""
        return cls(first=TextReply(text))

    @classmethod
    def tool(cls, command: str = "echo hi", *, description: str = "Print hi") -> Script:
        """Ask for one Bash `command`, then summarise its output in a text turn."""
        return cls(first=ToolUseReply(command=command, description=description))

    @classmethod
    def error(cls, status: int = 400, message: str = "stub: scripted bad request") -> Script:
        """Fail every prompt with an API error.

        The CLI reports a 400 at once; a 429 or 5xx it first retries with backoff unless
        its environment has CLAUDE_CODE_MAX_RETRIES=0 (`real_claude.offline_env(max_retries=0)`).
        """
        error_type = ERROR_TYPES.get(status, "api_error")
        return cls(first=ErrorReply(status=status, error_type=error_type, message=message))

    def reply_for(self, request: MessagesRequest) -> Reply:
        """The reply to `request`: a tool summary after a tool result, else the first reply."""
        output = last_tool_result(request)
        if output is not None:
            return TextReply(self.after_tool.format(output=output))
        return self.first


SCRIPT_NAMES = ("text", "tool", "error400")

# The API's error `type` for each status, as its error bodies spell them.
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def last_tool_result(request: MessagesRequest) -> str | None:
    """The text of the tool_result blocks in the last user message, or None if it has none."""
    if not request.messages or request.messages[-1].role != "user":
        return None
    content = request.messages[-1].content
    if isinstance(content, str):
        return None
    parts = [_tool_result_text(block) for block in content if block.get("type") == "tool_result"]
    return "\n".join(parts) if parts else None


def _tool_result_text(block: dict[str, Any]) -> str:
    content = block.get("content", "")
    if isinstance(content, str):
        return content
    # A list of content blocks: keep the text ones, as the model would read them.
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))
