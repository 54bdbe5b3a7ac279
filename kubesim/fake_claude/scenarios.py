"""The scenarios the fake plays, their settings, and how each one unfolds.

A scenario is a function over a `Play` plus a table of typed settings with defaults. Every
scenario also takes the common settings `pace_ms`, `seed` and `exit`; `exit` is the process
exit code, whose default depends on the scenario (the real CLI's code for that shape).
"""

from __future__ import annotations

import hashlib
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubesim.fake_claude import records
from kubesim.fake_claude.play import Play

# The real CLI retries 429 and 5xx itself, then reports the error; these are its wordings.
API_ERROR_TEXTS: dict[int, tuple[str, str]] = {
    401: ("Invalid API key · Fix external API key", "authentication_failed"),
    429: ("API Error: Request rejected (429) · {message}", "rate_limit"),
    529: ("API Error: 529 Overloaded. This is a server-side issue, usually temporary — "
          "try again in a moment.", "server_error"),
}
DEFAULT_RESETS_AT = 1777056000


class SettingError(ValueError):
    """A scenario setting is unknown or has a value of the wrong kind."""


@dataclass(frozen=True)
class Key:
    """One `key=value` setting a scenario accepts."""

    name: str
    kind: type
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None

    def convert(self, raw: str) -> Any:
        """Turn the header's text into the setting's type, or explain what is wrong."""
        if self.kind is bool:
            lowered = raw.lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise SettingError(f"setting {self.name}={raw!r} is not a boolean (1/0, true/false)")
        try:
            value = self.kind(raw)
        except ValueError:
            raise SettingError(
                f"setting {self.name}={raw!r} is not {'an' if self.kind is int else 'a'} "
                f"{self.kind.__name__}"
            ) from None
        if self.choices and value not in self.choices:
            raise SettingError(f"setting {self.name}={raw!r} must be one of "
                               f"{', '.join(self.choices)}")
        if self.minimum is not None and value < self.minimum:
            raise SettingError(f"setting {self.name}={raw!r} must be at least {self.minimum:g}")
        return value


@dataclass(frozen=True)
class Scenario:
    """A named way for the fake run to unfold."""

    name: str
    summary: str
    play: Callable[[Play], int | None]  # may return the exit code its outcome calls for
    default_exit: int
    keys: tuple[Key, ...] = ()

    def all_keys(self) -> tuple[Key, ...]:
        """The scenario's own settings followed by the common ones."""
        exit_key = Key("exit", int, None, f"process exit code (default {self.default_exit})")
        return (*self.keys, exit_key, *COMMON)

    def settings(self, raw: dict[str, str]) -> dict[str, Any]:
        """Typed settings: defaults overlaid with the header's values.

        Raises:
            SettingError: a key the scenario does not take, or a bad value.
        """
        known = {key.name: key for key in self.all_keys()}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise SettingError(f"scenario {self.name!r} has no setting {unknown[0]!r}; "
                               f"it takes: {', '.join(known)}")
        values = {key.name: key.default for key in known.values()}
        values.update({name: known[name].convert(text) for name, text in raw.items()})
        return values


COMMON = (
    Key("pace_ms", int, 0, "milliseconds to wait between stdout lines", minimum=0),
    Key("seed", str, None, "seed for ids and timings (default: the prompt's SHA-256)"),
)


# --- the scenarios ---------------------------------------------------------------------------


def echo_text(prompt: str) -> str:
    """The default reply: a short echo of the prompt's first meaningful line."""
    for line in prompt.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#scenario"):
            return f"Done. You said: {stripped[:80]}"
    return "Done."


def play_happy(p: Play) -> None:
    p.init()
    p.text_turn(p.inv.params["text"] or echo_text(p.inv.prompt))
    p.result_success()


def play_chatty(p: Play) -> None:
    total, width = p.inv.params["lines"], p.inv.params["width"]
    p.init()
    request_id = p.begin_turn()
    for n in range(1, total + 1):
        text = f"chatty line {n:06d}/{total:06d}".ljust(width, ".")
        p.assistant(p.ids.message_id(), records.TextBlock(text), request_id=request_id)
    p.end_turn(total * max(width, 25), "end_turn")
    p.result_success(f"chatty: printed {total} lines")


def play_big_line(p: Play) -> None:
    size = p.inv.params["bytes"]
    message_id, uuid = p.ids.message_id(), p.ids.uuid()
    # Measure the line around an empty text (request ids have a fixed length), then fill
    # the text to hit the size exactly; the filler needs no JSON escaping.
    placeholder = "req_011C" + "0" * 20
    empty = p.assistant_record(message_id, [records.TextBlock("")], request_id=placeholder,
                               uuid=uuid)
    envelope = len(records.encode(empty))
    if size < envelope:
        raise SettingError(f"setting bytes={size} is below the smallest such line ({envelope})")
    p.init()
    request_id = p.begin_turn()
    text = big_text(size - envelope)
    p.out.record(p.assistant_record(message_id, [records.TextBlock(text)],
                                    request_id=request_id, uuid=uuid))
    p.end_turn(len(text), "end_turn")
    digest = hashlib.sha256(text.encode()).hexdigest()
    p.result_success(f"big-line: bytes={size} text_chars={len(text)} text_sha256={digest}")


def big_text(length: int) -> str:
    """A recognisable ASCII filler of exactly `length` characters."""
    unit = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return (unit * (length // len(unit) + 1))[:length]


def play_tool(p: Play) -> None:
    p.init()
    command = p.inv.params["command"]
    outputs = [p.tool_turn(command) for _ in range(p.inv.params["tools"])]
    p.text_turn(f"The command printed: {outputs[-1] if outputs else ''}")
    p.result_success()


def play_unknown_session(p: Play) -> None:
    p.unknown_session()


def play_llm_empty(p: Play) -> None:
    p.init()
    request_id = p.begin_turn()
    # The empty-response shape: no content, stop_reason null, zero output tokens.
    p.out.record(p.assistant_record(p.ids.message_id(), [], request_id=request_id,
                                    output_tokens=0))


def play_truncated(p: Play) -> None:
    p.init()
    request_id = p.begin_turn()
    message_id = p.ids.message_id()
    tool_id = p.ids.tool_use_id()
    command = p.inv.params["command"]
    p.assistant(message_id, records.TextBlock("Let me check."), request_id=request_id,
                output_tokens=35)
    p.assistant(message_id, records.ToolUseBlock(tool_id, "Bash", {"command": command}),
                request_id=request_id, output_tokens=35)
    p.tool_result(tool_id, "hi" if command == "echo hi" else "")
    # ...and the stream simply stops: no further turn, no result.


def play_no_result(p: Play) -> None:
    p.init()
    request_id = p.begin_turn()
    thinking = records.ThinkingBlock("Let me start…", p.ids.signature())
    p.out.record(p.assistant_record(p.ids.message_id(), [thinking], request_id=request_id,
                                    output_tokens=0))
    p.rate_limit("allowed", resets_at=DEFAULT_RESETS_AT, kind="five_hour")


def play_rate_limit(p: Play) -> int | None:
    params = p.inv.params
    p.init()
    p.rate_limit(params["status"], resets_at=params["resets_at"], kind=params["kind"])
    if params["status"] == "rejected":
        text = API_ERROR_TEXTS[429][0].format(message=params["message"])
        p.synthetic_error(text, error="rate_limit", request_id=None)
        p.result_api_error(text, 429)
        return None
    p.text_turn(echo_text(p.inv.prompt))
    p.result_success()
    return 0


def play_error_result(p: Play) -> None:
    params = p.inv.params
    p.init()
    p.text_turn("Working on it.")
    terminal = "max_turns" if params["subtype"] == "error_max_turns" else None
    p.result_error(params["subtype"], [params["message"]], terminal_reason=terminal)


def api_error_text(status: int, message: str) -> tuple[str, str]:
    """The CLI's text and `error` kind for an API error with `status` and `message`."""
    if status in API_ERROR_TEXTS:
        text, kind = API_ERROR_TEXTS[status]
        return text.format(message=message), kind
    return f"API Error: {status} {message}", "unknown"


def play_api_error(p: Play) -> None:
    params = p.inv.params
    p.init()
    request_id = p.ids.request_id()
    text, kind = api_error_text(params["status"], params["message"])
    p.synthetic_error(text, error=kind, request_id=request_id)
    p.result_api_error(text, params["status"])


NOISE = (
    "npm WARN config: this is not JSON",
    "",
    "\x1b[33mwarning\x1b[0m: colour codes on stdout",
    '{"type":"assistant","message":{"id":"msg_cut',
    "Traceback (most recent call last): not JSON either",
)


def play_stderr_noise(p: Play) -> None:
    count = p.inv.params["lines"]

    def noise(n: int) -> None:
        p.out.error(f"[fake-claude stderr] noise line {n} of {count}")
        p.out.raw(f"[fake-claude stdout] noise line {n} of {count}")

    half = (count + 1) // 2
    p.init()
    for n in range(1, half + 1):
        noise(n)
    p.text_turn(p.inv.params["text"] or echo_text(p.inv.prompt))
    for n in range(half + 1, count + 1):
        noise(n)
    p.result_success()


def play_mixed(p: Play) -> None:
    p.out.interleave = NOISE
    play_tool(p)


def play_sleep(p: Play) -> None:
    p.init()
    p.out.wait(p.inv.params["seconds"])
    p.text_turn(p.inv.params["text"] or echo_text(p.inv.prompt))
    p.result_success()


def play_hang(p: Play) -> None:
    if p.inv.params["term"] == "ignore":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    p.init()
    p.out.wait(p.inv.params["seconds"])


def play_exit(p: Play) -> None:
    if p.inv.params["init"]:
        p.init()
    code = exit_code(SCENARIOS["exit"], p.inv.params)
    p.out.error(f"fake-claude: exiting early with code {code}")


def exit_code(scenario: Scenario, params: dict[str, Any], outcome: int | None = None) -> int:
    """The process exit code: `code=`, else `exit=`, else the play's outcome or the default."""
    for chosen in (params.get("code"), params.get("exit"), outcome):
        if chosen is not None:
            return int(chosen)
    return scenario.default_exit


def _text_key(help_text: str = "reply text (default: an echo of the prompt)") -> Key:
    return Key("text", str, "", help_text)


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("happy", "init, one text reply, success result (the default)", play_happy, 0,
                 (_text_key(),)),
        Scenario("chatty", "many assistant text lines, then success", play_chatty, 0,
                 (Key("lines", int, 200, "assistant lines to print", minimum=0),
                  Key("width", int, 0, "pad each line's text to this many chars", minimum=0))),
        Scenario("big-line", "one assistant line of exactly `bytes` bytes, then success",
                 play_big_line, 0,
                 (Key("bytes", int, 1024 * 1024, "length of the big line without newline",
                      minimum=1),)),
        Scenario("tool", "Bash tool_use + tool_result turns, then a text turn and success",
                 play_tool, 0,
                 (Key("tools", int, 1, "tool turns before the final text", minimum=0),
                  Key("command", str, "echo hi", "the Bash command the model asks for"))),
        Scenario("unknown-session", "the CLI's --resume failure: stderr line, "
                 "error_during_execution result, no init", play_unknown_session, 1),
        Scenario("llm-empty", "init, an assistant message with no content and 0 output "
                 "tokens, no result", play_llm_empty, 0),
        Scenario("truncated", "init, text + tool_use + tool_result, then the stream stops "
                 "(no result)", play_truncated, 0,
                 (Key("command", str, "echo hi", "the Bash command in the cut-off turn"),)),
        Scenario("no-result", "init, a thinking-only message, a rate_limit_event, no result",
                 play_no_result, 0),
        Scenario("rate-limit", "a rate_limit_event; `rejected` ends in a 429 error result, "
                 "the other statuses in success (exit 0)",
                 play_rate_limit, 1,
                 (Key("status", str, "rejected", "rate limit status",
                      choices=("allowed", "allowed_warning", "rejected")),
                  Key("resets_at", int, DEFAULT_RESETS_AT, "epoch seconds of the reset"),
                  Key("kind", str, "five_hour", "rateLimitType"),
                  Key("message", str,
                      "Number of request tokens has exceeded your per-minute rate limit",
                      "the API's 429 message"))),
        Scenario("error-result", "a text turn, then an is_error result with `errors`",
                 play_error_result, 1,
                 (Key("subtype", str, "error_during_execution", "result subtype"),
                  Key("message", str, "fake: scripted execution error", "the errors entry"))),
        Scenario("api-error", "the CLI's API error shape: a `<synthetic>` message, an "
                 "is_error result with api_error_status", play_api_error, 1,
                 (Key("status", int, 400, "HTTP status of the failed API call", minimum=100),
                  Key("message", str, "fake: scripted bad request", "the API's message"))),
        Scenario("stderr-noise", "a happy run with non-JSON lines on stdout and stderr",
                 play_stderr_noise, 0,
                 (Key("lines", int, 6, "noise lines on each stream", minimum=0),
                  _text_key())),
        Scenario("mixed", "a tool run with a non-JSON line between every two JSON lines",
                 play_mixed, 0,
                 (Key("tools", int, 1, "tool turns before the final text", minimum=0),
                  Key("command", str, "echo hi", "the Bash command the model asks for"))),
        Scenario("sleep", "init, wait `seconds`, then a happy ending", play_sleep, 0,
                 (Key("seconds", float, 5.0, "how long to wait", minimum=0), _text_key())),
        Scenario("hang", "init, then no output for `seconds` and no result", play_hang, 1,
                 (Key("seconds", float, 3600.0, "how long to hang", minimum=0),
                  Key("term", str, "exit", "on SIGTERM: exit (die at once) or ignore",
                      choices=("exit", "ignore")))),
        Scenario("exit", "exit early with `code` (init first unless init=0)", play_exit, 1,
                 (Key("code", int, None, "exit code (the same as exit=)"),
                  Key("init", bool, True, "print the init line first"))),
    )
}
ALIASES = {"default": "happy", "sleep-forever": "hang", "error": "error-result"}


def lookup(name: str) -> Scenario:
    """The scenario called `name` (or one of its aliases).

    Raises:
        SettingError: no scenario has that name.
    """
    scenario = SCENARIOS.get(ALIASES.get(name, name))
    if scenario is None:
        known = ", ".join([*SCENARIOS, *ALIASES])
        raise SettingError(f"unknown scenario {name!r}; known: {known}")
    return scenario


def _describe(key: Key) -> str:
    default = "" if key.default is None else key.default
    if isinstance(default, bool):
        default = int(default)
    return f"`{key.name}={default}` {key.help}"


def markdown_table() -> str:
    """The scenarios and their settings as a markdown table (for --list-scenarios)."""
    rows = ["| scenario | what it prints | settings: `key=default` meaning | exit |",
            "|---|---|---|---|"]
    for s in SCENARIOS.values():
        keys = "; ".join(_describe(k) for k in s.keys) or "—"
        rows.append(f"| `{s.name}` | {s.summary} | {keys} | {s.default_exit} |")
    common = "; ".join(_describe(k) for k in COMMON)
    aliases = ", ".join(f"`{a}` = `{n}`" for a, n in ALIASES.items())
    footer = [f"Every scenario also takes `exit=N` (the process exit code; default in the "
              f"last column); {common}.", f"Aliases: {aliases}."]
    return "\n".join([*rows, "", *footer])
