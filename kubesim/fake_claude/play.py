"""The building blocks scenarios are made of: init, turns, tool calls, errors, results.

`Play` keeps the run's bookkeeping (turns, token usage, planned duration, the last stop
reason) so every scenario ends with a result whose numbers add up, as the real CLI's do.
"""

from __future__ import annotations

import hashlib
import math
import shlex
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec

from kubesim.fake_claude import flags as flags_mod
from kubesim.fake_claude import records
from kubesim.fake_claude.ids import Ids
from kubesim.fake_claude.output import Output
from kubesim.fake_claude.sessions import SessionStore, cwd_slug

DEFAULT_MODEL = "claude-opus-4-8[1m]"
LONG_CONTEXT_SUFFIX = "[1m]"
# Opus pricing in USD per token, which reproduces the real CLI's total_cost_usd figures.
INPUT_PRICE = 5e-6
OUTPUT_PRICE = 25e-6
MAX_OUTPUT_TOKENS = 64000


class MaxTurnsReached(Exception):
    """The run would start a turn beyond `--max-turns`."""


class InitTemplate(msgspec.Struct):
    """The static part of the real CLI's init record (kubesim/scenarios/real-cli-init.json)."""

    tools: list[str]
    mcp_servers: list[Any]
    slash_commands: list[str]
    apiKeySource: str
    claude_code_version: str
    output_style: str
    agents: list[str]
    skills: list[str]
    plugins: list[Any]
    analytics_disabled: bool
    product_feedback_disabled: bool
    fast_mode_state: str


class _InitFile(msgspec.Struct):
    init: InitTemplate


def load_init_template() -> InitTemplate:
    """Read the captured init fields shipped as package data."""
    data = resources.files("kubesim").joinpath("scenarios", "real-cli-init.json").read_bytes()
    return msgspec.json.decode(data, type=_InitFile).init


@dataclass(frozen=True)
class Invocation:
    """Everything about how the fake was called that a scenario may need."""

    argv: list[str]
    flags: flags_mod.Flags
    prompt: str
    scenario: str
    params: dict[str, Any]
    seed: str
    session_id: str
    resumed: bool
    cwd: str
    home: Path
    store: SessionStore | None


@dataclass
class Play:
    """One run in progress: emits records through `out` and keeps the totals."""

    inv: Invocation
    out: Output
    ids: Ids
    template: InitTemplate
    turns: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    api_ms: int = 0
    last_stop_reason: str | None = None
    texts: list[str] = field(default_factory=list)

    # --- derived values ----------------------------------------------------------------------

    @property
    def session_id(self) -> str:
        return self.inv.session_id

    @property
    def model(self) -> str:
        """The model as the init record and modelUsage name it."""
        return self.inv.flags.model or DEFAULT_MODEL

    @property
    def api_model(self) -> str:
        """The model as the API names it in messages (no long-context suffix)."""
        return self.model.removesuffix(LONG_CONTEXT_SUFFIX)

    @property
    def turn_input_tokens(self) -> int:
        return 12 + len(self.inv.prompt.encode()) // 4

    def permission_mode(self) -> str:
        if self.inv.flags.dangerously_skip_permissions:
            return "bypassPermissions"
        return self.inv.flags.permission_mode or "default"

    # --- records ---------------------------------------------------------------------------

    def init(self) -> None:
        """Print the system/init record; from here on the session exists and can be resumed."""
        t = self.template
        prompt_bytes = self.inv.prompt.encode()
        info = records.FakeClaudeInfo(
            scenario=self.inv.scenario, params=self.inv.params, argv=self.inv.argv,
            flags=self.inv.flags, unknown_args=self.inv.flags.unknown,
            prompt_bytes=len(prompt_bytes), prompt_sha256=hashlib.sha256(prompt_bytes).hexdigest(),
            seed=self.inv.seed, resumed=self.inv.resumed,
        )
        memory = str(self.inv.home / ".claude" / "projects" / cwd_slug(self.inv.cwd) / "memory")
        self.out.record(records.SystemInit(
            cwd=self.inv.cwd, session_id=self.session_id, tools=t.tools,
            mcp_servers=t.mcp_servers, model=self.model, permissionMode=self.permission_mode(),
            slash_commands=t.slash_commands, apiKeySource=t.apiKeySource,
            claude_code_version=t.claude_code_version, output_style=t.output_style,
            agents=t.agents, skills=t.skills, plugins=t.plugins,
            analytics_disabled=t.analytics_disabled,
            product_feedback_disabled=t.product_feedback_disabled, uuid=self.ids.uuid(),
            memory_paths={"auto": memory + "/"}, fast_mode_state=t.fast_mode_state,
            fake_claude=info,
        ))
        if self.inv.store is not None:
            try:
                self.inv.store.record(self.session_id, self.inv.scenario)
            except OSError as exc:
                # A read-only HOME costs the ability to resume, not the run itself.
                self.out.error(f"fake claude: cannot save session {self.session_id}: {exc}")

    def begin_turn(self) -> str:
        """Account for one more model request; returns its request id.

        Raises:
            MaxTurnsReached: `--max-turns` turns have already been taken.
        """
        limit = self.inv.flags.max_turns
        if limit is not None and self.turns >= limit:
            raise MaxTurnsReached
        self.turns += 1
        self.input_tokens += self.turn_input_tokens
        self.api_ms += self.ids.randint(20, 60)
        return self.ids.request_id()

    def assistant_record(self, message_id: str, content: list[records.ContentBlock], *,
                         request_id: str, output_tokens: int = 1,
                         uuid: str | None = None) -> records.Assistant:
        """An assistant record; the usage is the API's message_start figures, as the CLI shows."""
        usage = records.Usage(input_tokens=self.turn_input_tokens, output_tokens=output_tokens)
        message = records.AssistantMessage(id=message_id, model=self.api_model, content=content,
                                           usage=usage)
        return records.Assistant(message=message, session_id=self.session_id,
                                 uuid=uuid or self.ids.uuid(), request_id=request_id)

    def assistant(self, message_id: str, block: records.ContentBlock, *, request_id: str,
                  output_tokens: int = 1) -> None:
        """Print one assistant line carrying one content block (the CLI prints one per block)."""
        self.out.record(self.assistant_record(message_id, [block], request_id=request_id,
                                              output_tokens=output_tokens))

    def text_turn(self, text: str) -> None:
        """A model turn that answers with `text` and ends the conversation."""
        request_id = self.begin_turn()
        self.assistant(self.ids.message_id(), records.TextBlock(text), request_id=request_id)
        self.end_turn(len(text), "end_turn")
        self.texts.append(text)

    def tool_turn(self, command: str, *, lead_text: str = "Running it.",
                  description: str = "Run the command") -> str:
        """A model turn that calls Bash, then the CLI's tool_result line; returns the output."""
        request_id = self.begin_turn()
        message_id = self.ids.message_id()
        tool_id = self.ids.tool_use_id()
        tool_input = {"command": command, "description": description}
        self.assistant(message_id, records.TextBlock(lead_text), request_id=request_id)
        self.assistant(message_id, records.ToolUseBlock(tool_id, "Bash", tool_input),
                       request_id=request_id)
        self.end_turn(len(lead_text) + len(command) + len(description), "tool_use")
        self.texts.append(lead_text)
        output = simulated_output(command)
        self.tool_result(tool_id, output)
        return output

    def end_turn(self, output_chars: int, stop_reason: str) -> None:
        """Account for a finished reply: its output tokens and how it stopped."""
        self.output_tokens += max(1, math.ceil(output_chars / 4))
        self.last_stop_reason = stop_reason

    def tool_result(self, tool_use_id: str, output: str, *, is_error: bool = False) -> None:
        """The user line the CLI prints after running a tool."""
        block = records.ToolResultBlock(tool_use_id=tool_use_id, content=output,
                                        is_error=is_error)
        self.out.record(records.User(
            message=records.UserMessage(content=[block]), session_id=self.session_id,
            uuid=self.ids.uuid(), timestamp=self.ids.timestamp(self.elapsed_ms()),
            tool_use_result=records.ToolUseResult(stdout=output),
        ))

    def rate_limit(self, status: str, *, resets_at: int, kind: str) -> None:
        """A rate_limit_event line, as the CLI prints it when the API reports limits."""
        info = records.RateLimitInfo(status=status, resetsAt=resets_at, rateLimitType=kind)
        if status != "rejected":
            info.overageStatus = "allowed"
            info.isUsingOverage = False
        self.out.record(records.RateLimitEvent(rate_limit_info=info, uuid=self.ids.uuid(),
                                               session_id=self.session_id))

    def synthetic_error(self, text: str, *, error: str, request_id: str | None) -> None:
        """The `<synthetic>` assistant line the CLI prints in place of a failed reply."""
        message = records.SyntheticMessage(id=self.ids.uuid(), content=[records.TextBlock(text)])
        record = records.Assistant(message=message, session_id=self.session_id,
                                   uuid=self.ids.uuid(), error=error)
        if request_id is not None:
            record.request_id = request_id
        self.out.record(record)

    # --- results ---------------------------------------------------------------------------

    def elapsed_ms(self) -> int:
        return 40 + self.api_ms + self.out.planned_ms

    def cost(self) -> float:
        return round(self.input_tokens * INPUT_PRICE + self.output_tokens * OUTPUT_PRICE, 9)

    def usage(self) -> records.ResultUsage:
        return records.ResultUsage(input_tokens=self.input_tokens,
                                   output_tokens=self.output_tokens)

    def model_usage(self) -> dict[str, records.ModelUsage]:
        if not self.turns:
            return {}
        window = 1_000_000 if self.model.endswith(LONG_CONTEXT_SUFFIX) else 200_000
        return {self.model: records.ModelUsage(
            inputTokens=self.input_tokens, outputTokens=self.output_tokens,
            cacheReadInputTokens=0, cacheCreationInputTokens=0, webSearchRequests=0,
            costUSD=self.cost(), contextWindow=window, maxOutputTokens=MAX_OUTPUT_TOKENS,
        )}

    def result_success(self, text: str | None = None) -> None:
        """The success result; its text defaults to the last text the model wrote."""
        final = text if text is not None else (self.texts[-1] if self.texts else "")
        elapsed = self.elapsed_ms()
        self.out.record(records.Result(
            subtype="success", is_error=False, api_error_status=None, duration_ms=elapsed,
            duration_api_ms=self.api_ms, ttft_ms=elapsed - 5, ttft_stream_ms=elapsed - 6,
            time_to_request_ms=elapsed - 20, num_turns=self.turns, result=final,
            stop_reason=self.last_stop_reason or "end_turn", session_id=self.session_id,
            total_cost_usd=self.cost(), usage=self.usage(), modelUsage=self.model_usage(),
            terminal_reason="completed", fast_mode_state="off", uuid=self.ids.uuid(),
        ))

    def result_api_error(self, text: str, status: int | None) -> None:
        """The result after an API error: subtype success but is_error true, as the CLI does."""
        self.out.record(records.Result(
            subtype="success", is_error=True, api_error_status=status,
            duration_ms=self.elapsed_ms(), duration_api_ms=0, num_turns=max(self.turns, 1),
            result=text, stop_reason="stop_sequence", session_id=self.session_id,
            total_cost_usd=self.cost(), usage=self.usage(), modelUsage=self.model_usage(),
            terminal_reason="completed", fast_mode_state="off", uuid=self.ids.uuid(),
        ))

    def result_error(self, subtype: str, errors: list[str], *, num_turns: int | None = None,
                     terminal_reason: str | None = None) -> None:
        """An error result with an `errors` list (error_during_execution, error_max_turns…)."""
        record = records.Result(
            subtype=subtype, is_error=True, duration_ms=self.elapsed_ms() if self.turns else 0,
            duration_api_ms=self.api_ms, num_turns=self.turns if num_turns is None else num_turns,
            stop_reason=self.last_stop_reason, session_id=self.session_id,
            total_cost_usd=self.cost(), usage=self.usage(), modelUsage=self.model_usage(),
            uuid=self.ids.uuid(), errors=errors,
        )
        if terminal_reason is not None:
            record.terminal_reason = terminal_reason
            record.fast_mode_state = "off"
        self.out.record(record)

    def result_max_turns(self) -> None:
        """The result the CLI prints when `--max-turns` stops the run."""
        limit = self.inv.flags.max_turns
        self.result_error("error_max_turns", [f"Reached maximum number of turns ({limit})"],
                          num_turns=self.turns + 1, terminal_reason="max_turns")

    def unknown_session(self) -> None:
        """The real CLI's answer to `--resume` of a session it does not have: no init line."""
        message = f"No conversation found with session ID: {self.session_id}"
        self.out.error(message)
        self.result_error("error_during_execution", [message])


def simulated_output(command: str) -> str:
    """What the fake pretends a Bash command printed (it never runs anything)."""
    try:
        words = shlex.split(command)
    except ValueError:
        return ""
    if words and words[0] == "echo":
        return " ".join(words[1:])
    return ""
