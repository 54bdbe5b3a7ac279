"""Human-readable rendering of Claude stream-json lines, for the CLI's `--pretty` output.

`kubectl logs` of a run shows raw JSON events; this turns each into a short line (or a few) a
person can follow: what Claude said, which tool it called with what, what came back (cut to its
first line), rate limits, and the final result with its cost. Plain-text lines pass through
unchanged. Pure: it formats strings and never prints.
"""

from __future__ import annotations

import datetime
from typing import Any

import msgspec

from supervisor.streamjson import decode_object, line_text, read_result_event

__all__ = ["format_line", "summarize_tool_input"]

# ANSI SGR colours; used only when the caller asks for colour.
_BLUE, _GREEN, _GRAY, _YELLOW, _CYAN, _RED = "34", "32", "90", "33", "36", "31"
# A one-line summary or a quoted first line is cut to this many characters.
_MAX_CHARS = 200
# Thinking can run for pages; show its opening only.
_THINKING_LINES = 3

# Which input field best says what a call does, per well-known Claude Code tool; any other tool
# (MCP tools included) uses the first of the generic keys it has.
_TOOL_KEYS: dict[str, str] = {
    "Bash": "command",
    "Read": "file_path",
    "Write": "file_path",
    "Edit": "file_path",
    "MultiEdit": "file_path",
    "NotebookEdit": "notebook_path",
    "Glob": "pattern",
    "Grep": "pattern",
    "WebFetch": "url",
    "WebSearch": "query",
    "Task": "description",
    "Agent": "description",
    "Skill": "skill",
}
_GENERIC_KEYS = ("command", "file_path", "path", "url", "query", "pattern", "description", "prompt")

_Styled = tuple[str, str]  # (colour, text)


def format_line(raw: bytes | str, *, color: bool = False, debug: bool = False) -> str | None:
    """Render one line of Claude output for a person, or None when there is nothing to show.

    Lines that are not a JSON object (status lines, stderr, JSON `null` or arrays) are returned
    as they are. Event types without a rendering are skipped, or with `debug` shown raw.

    Args:
        raw: one line, with or without its line ending.
        color: wrap each output line in ANSI colour codes.
        debug: show events that have no rendering as their raw JSON instead of skipping them.
    """
    text = line_text(raw).strip()
    if not text:
        return None
    event = decode_object(text)
    if event is None:
        return text
    styled = _render(event)
    if not styled:
        if not debug:
            return None
        styled = [(_GRAY, text)]
    return "\n".join(_paint(colour, line, color) for colour, line in styled)


def _paint(colour: str, text: str, enabled: bool) -> str:
    return f"\x1b[{colour}m{text}\x1b[0m" if enabled else text


def _render(event: dict[str, Any]) -> list[_Styled]:
    kind = event.get("type")
    if kind == "system" and event.get("subtype") == "init":
        return _render_init(event)
    if kind == "assistant":
        return _render_assistant(event)
    if kind == "user":
        return _render_user(event)
    if kind == "result":
        return _render_result(event)
    if kind == "rate_limit_event":
        return _render_rate_limit(event)
    return []


def _render_init(event: dict[str, Any]) -> list[_Styled]:
    model = _string(event.get("model")) or "unknown"
    session = _string(event.get("session_id"))
    suffix = f", session: {session}" if session else ""
    return [(_BLUE, f"Claude initialized (model: {model}{suffix})")]


def _blocks(event: dict[str, Any]) -> list[Any]:
    message = event.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return content if isinstance(content, list) else []


def _render_assistant(event: dict[str, Any]) -> list[_Styled]:
    lines: list[_Styled] = []
    for block in _blocks(event):
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text" and _string(block.get("text")):
            lines.append((_GREEN, f"assistant: {block['text']}"))
        elif kind == "thinking" and _string(block.get("thinking")):
            lines.append((_GRAY, f"thinking: {_clip(block['thinking'], _THINKING_LINES)}"))
        elif kind == "tool_use":
            name = _string(block.get("name")) or "unknown"
            summary = summarize_tool_input(name, block.get("input"))
            detail = f": {summary}" if summary else ""
            lines.append((_YELLOW, f"tool_call: {name}{detail}"))
    return lines


def _render_user(event: dict[str, Any]) -> list[_Styled]:
    lines: list[_Styled] = []
    for block in _blocks(event):
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text" and _string(block.get("text")):
            lines.append((_CYAN, f"user: {_clip(block['text'], 1)}"))
        elif kind == "tool_result":
            is_error = block.get("is_error") is True
            label = "tool_result (error)" if is_error else "tool_result"
            content = _tool_result_text(block.get("content"))
            line = f"{label}: {_clip(content, 1)}" if content.strip() else label
            lines.append((_RED if is_error else _CYAN, line))
    return lines


def _tool_result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = []
    for part in content:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text" and isinstance(part.get("text"), str):
            parts.append(part["text"])
        elif isinstance(part.get("type"), str):
            parts.append(f"[{part['type']}]")  # images and other non-text parts
    return "\n".join(parts)


def _render_result(event: dict[str, Any]) -> list[_Styled]:
    result = read_result_event(event)
    lines: list[_Styled] = []
    if result.text:
        lines.append((_GREEN, f"result: {result.text}"))
    failed = (result.subtype or "").startswith("error") or result.is_error or bool(result.errors)
    if failed:
        status = (
            f" api_error_status={result.api_error_status}"
            if result.api_error_status is not None
            else ""
        )
        lines.append(
            (
                _RED,
                f"claude_result: subtype={result.subtype or 'unknown'} "
                f"is_error={'true' if result.is_error else 'false'}{status}",
            )
        )
        if result.errors:
            lines.append((_RED, f"claude_errors: {' | '.join(result.errors)}"))
    for denial in result.permission_denials:
        summary = summarize_tool_input(denial.tool_name, denial.tool_input)
        detail = f": {summary}" if summary else ""
        lines.append((_RED, f"permission_denied: {denial.tool_name}{detail}"))
    usage = result.usage
    stats = (
        f"tokens: in={usage.input_tokens} out={usage.output_tokens} "
        f"cached={usage.cached_input_tokens} cost=${result.total_cost_usd or 0:.6f}"
    )
    if result.num_turns is not None:
        stats += f" turns={result.num_turns}"
    if result.duration_ms is not None:
        stats += f" duration={result.duration_ms / 1000:.1f}s"
    lines.append((_BLUE, stats))
    return lines


def _render_rate_limit(event: dict[str, Any]) -> list[_Styled]:
    info = event.get("rate_limit_info")
    info = info if isinstance(info, dict) else {}
    limit_type = _string(info.get("rateLimitType")) or "unknown"
    status = _string(info.get("status")) or "unknown"
    line = f"rate_limit: type={limit_type} status={status}"
    resets_at = info.get("resetsAt")
    if isinstance(resets_at, int | float) and not isinstance(resets_at, bool):
        try:
            moment = datetime.datetime.fromtimestamp(resets_at, tz=datetime.UTC)
        except (OverflowError, OSError, ValueError):
            pass  # a nonsense timestamp is left out rather than failing the line
        else:
            line += f" resets={moment.strftime('%Y-%m-%dT%H:%M:%SZ')}"
    return [(_YELLOW, line)]


def summarize_tool_input(name: str, tool_input: Any) -> str:
    """Say on one line what a tool call does: `ls -la` for Bash, the path for Read, the count
    for TodoWrite, else the most telling field, else compact JSON, cut to a readable length."""
    if not isinstance(tool_input, dict) or not tool_input:
        return ""
    if name == "TodoWrite" and isinstance(tool_input.get("todos"), list):
        count = len(tool_input["todos"])
        return f"{count} todo" + ("" if count == 1 else "s")
    keys = (_TOOL_KEYS[name],) if name in _TOOL_KEYS else _GENERIC_KEYS
    for key in keys:
        value = tool_input.get(key)
        if isinstance(value, str) and value.strip():
            summary = _clip(value, 1)
            where = tool_input.get("path")
            if name in ("Glob", "Grep") and isinstance(where, str) and where:
                summary += f" in {where}"
            return summary
    return _cut(msgspec.json.encode(tool_input).decode())


def _clip(text: str, max_lines: int) -> str:
    """The first `max_lines` lines (each cut short), noting how many more there were."""
    lines = text.strip().splitlines() or [""]
    shown = " ⏎ ".join(_cut(line) for line in lines[:max_lines])
    hidden = len(lines) - max_lines
    if hidden > 0:
        shown += f" … ({hidden} more line{'' if hidden == 1 else 's'})"
    return shown


def _cut(text: str) -> str:
    return text if len(text) <= _MAX_CHARS else text[: _MAX_CHARS - 1] + "…"


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
