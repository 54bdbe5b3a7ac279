"""The stream-json records Claude Code prints, as msgspec structs.

Field names and nesting follow what the real CLI 2.1.197 printed against a loopback
Messages API stub (tests/fixtures/claude/real-cli/). Fields the real CLI leaves out of a
given record are `UNSET` here, so they are left out of the JSON too. The one addition is
`fake_claude` on the init record, which tells tests how the fake was invoked.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

# --- content blocks --------------------------------------------------------------------------


class TextBlock(msgspec.Struct, tag_field="type", tag="text"):
    text: str


class ThinkingBlock(msgspec.Struct, tag_field="type", tag="thinking"):
    thinking: str
    signature: str


class ToolUseBlock(msgspec.Struct, tag_field="type", tag="tool_use"):
    id: str
    name: str
    input: dict[str, Any]


class ToolResultBlock(msgspec.Struct, tag_field="type", tag="tool_result", kw_only=True):
    # msgspec writes the tag first; the CLI writes tool_use_id first. Key order is not data.
    tool_use_id: str
    content: str
    is_error: bool = False


ContentBlock = TextBlock | ThinkingBlock | ToolUseBlock


# --- usage -----------------------------------------------------------------------------------


class Usage(msgspec.Struct):
    """Per-message usage as the CLI prints it (the API's message_start numbers)."""

    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0


class ServerToolUse(msgspec.Struct):
    web_search_requests: int = 0
    web_fetch_requests: int = 0


class CacheCreation(msgspec.Struct):
    ephemeral_1h_input_tokens: int = 0
    ephemeral_5m_input_tokens: int = 0


class SyntheticUsage(msgspec.Struct):
    """The zeroed usage on the CLI's own `<synthetic>` error messages."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    server_tool_use: ServerToolUse = msgspec.field(default_factory=ServerToolUse)
    service_tier: None = None
    cache_creation: CacheCreation = msgspec.field(default_factory=CacheCreation)
    inference_geo: None = None
    iterations: None = None
    speed: None = None


class ResultUsage(msgspec.Struct, kw_only=True):
    """Run totals on the result record."""

    input_tokens: int
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    output_tokens: int
    server_tool_use: ServerToolUse = msgspec.field(default_factory=ServerToolUse)
    service_tier: str = "standard"
    cache_creation: CacheCreation = msgspec.field(default_factory=CacheCreation)
    inference_geo: str = ""
    iterations: list[Any] = msgspec.field(default_factory=list)
    speed: str = "standard"


class ModelUsage(msgspec.Struct):
    inputTokens: int
    outputTokens: int
    cacheReadInputTokens: int
    cacheCreationInputTokens: int
    webSearchRequests: int
    costUSD: float
    contextWindow: int
    maxOutputTokens: int


# --- messages --------------------------------------------------------------------------------


class AssistantMessage(msgspec.Struct, kw_only=True):
    id: str
    type: str = "message"
    role: str = "assistant"
    model: str
    content: list[ContentBlock]
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: Usage
    context_management: None = None


class SyntheticMessage(msgspec.Struct, kw_only=True):
    """An error the CLI reports as if the model had said it (model `<synthetic>`)."""

    id: str
    container: None = None
    model: str = "<synthetic>"
    role: str = "assistant"
    stop_details: None = None
    stop_reason: str = "stop_sequence"
    stop_sequence: str = ""
    type: str = "message"
    usage: SyntheticUsage = msgspec.field(default_factory=SyntheticUsage)
    content: list[ContentBlock]
    context_management: None = None


class UserMessage(msgspec.Struct, kw_only=True):
    role: str = "user"
    content: list[ToolResultBlock]


class ToolUseResult(msgspec.Struct):
    stdout: str
    stderr: str = ""
    interrupted: bool = False
    isImage: bool = False
    noOutputExpected: bool = False


class RateLimitInfo(msgspec.Struct, kw_only=True):
    status: str
    resetsAt: int
    rateLimitType: str
    overageStatus: str | UnsetType = UNSET
    isUsingOverage: bool | UnsetType = UNSET


class PermissionDenial(msgspec.Struct):
    tool_name: str
    tool_use_id: str
    tool_input: dict[str, Any]


# --- records (one stdout line each) ----------------------------------------------------------


class FakeClaudeInfo(msgspec.Struct, kw_only=True):
    """How the fake was invoked; only on the fake's init record."""

    scenario: str
    params: dict[str, Any]
    argv: list[str]
    flags: Any
    unknown_args: list[str]
    prompt_bytes: int
    prompt_sha256: str
    seed: str
    resumed: bool


class SystemInit(msgspec.Struct, tag_field="type", tag="system", kw_only=True):
    subtype: str = "init"
    cwd: str
    session_id: str
    tools: list[str]
    mcp_servers: list[Any]
    model: str
    permissionMode: str
    slash_commands: list[str]
    apiKeySource: str
    claude_code_version: str
    output_style: str
    agents: list[str]
    skills: list[str]
    plugins: list[Any]
    analytics_disabled: bool
    product_feedback_disabled: bool
    uuid: str
    memory_paths: dict[str, str]
    fast_mode_state: str
    fake_claude: FakeClaudeInfo | UnsetType = UNSET


class Assistant(msgspec.Struct, tag_field="type", tag="assistant", kw_only=True):
    message: AssistantMessage | SyntheticMessage
    parent_tool_use_id: str | None = None
    session_id: str
    uuid: str
    request_id: str | UnsetType = UNSET
    error: str | UnsetType = UNSET


class User(msgspec.Struct, tag_field="type", tag="user", kw_only=True):
    message: UserMessage
    parent_tool_use_id: str | None = None
    session_id: str
    uuid: str
    timestamp: str
    tool_use_result: ToolUseResult | str


class RateLimitEvent(msgspec.Struct, tag_field="type", tag="rate_limit_event", kw_only=True):
    rate_limit_info: RateLimitInfo
    uuid: str
    session_id: str


class Result(msgspec.Struct, tag_field="type", tag="result", kw_only=True):
    subtype: str
    is_error: bool
    api_error_status: int | None | UnsetType = UNSET
    duration_ms: int
    duration_api_ms: int
    ttft_ms: int | UnsetType = UNSET
    ttft_stream_ms: int | UnsetType = UNSET
    time_to_request_ms: int | UnsetType = UNSET
    num_turns: int
    result: str | UnsetType = UNSET
    stop_reason: str | None
    session_id: str
    total_cost_usd: float
    usage: ResultUsage
    modelUsage: dict[str, ModelUsage]
    permission_denials: list[PermissionDenial] = msgspec.field(default_factory=list)
    terminal_reason: str | UnsetType = UNSET
    fast_mode_state: str | UnsetType = UNSET
    uuid: str
    errors: list[str] | UnsetType = UNSET


Record = SystemInit | Assistant | User | RateLimitEvent | Result

_encoder = msgspec.json.Encoder()


def encode(record: Record) -> bytes:
    """One record as compact JSON, without the trailing newline."""
    return _encoder.encode(record)
