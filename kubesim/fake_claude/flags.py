"""Parse the fake's command line the way Claude Code 2.1.197 reads its own.

Every option the real CLI lists in `claude --help` is known here with the same arity, so
a value never gets mistaken for the prompt. Options the real CLI does not know are kept in
`Flags.unknown` instead of failing (the real CLI would exit with `unknown option`), so tests
can assert on exactly what was passed. An unknown option's value must be written
`--name=value`: with a space the value is read as the prompt, as it would be by any parser
that does not know the option.
"""

from __future__ import annotations

import argparse

import msgspec


class FlagError(ValueError):
    """The command line cannot be understood (a bad value for a known option)."""


class Flags(msgspec.Struct, kw_only=True):
    """The options the fake acts on or reports, after parsing."""

    print: bool = False
    prompt_arg: str | None = None
    output_format: str = "text"
    input_format: str = "text"
    verbose: bool = False
    resume: str | None = None
    continue_session: bool = False
    session_id: str | None = None
    fork_session: bool = False
    no_session_persistence: bool = False
    model: str | None = None
    fallback_model: str | None = None
    max_turns: int | None = None
    effort: str | None = None
    add_dir: list[str] = msgspec.field(default_factory=list)
    append_system_prompt_file: str | None = None
    append_system_prompt: str | None = None
    system_prompt: str | None = None
    mcp_config: list[str] = msgspec.field(default_factory=list)
    strict_mcp_config: bool = False
    dangerously_skip_permissions: bool = False
    permission_mode: str | None = None
    allowed_tools: list[str] = msgspec.field(default_factory=list)
    disallowed_tools: list[str] = msgspec.field(default_factory=list)
    include_partial_messages: bool = False
    list_scenarios: bool = False
    version: bool = False
    help: bool = False
    unknown: list[str] = msgspec.field(default_factory=list)


# (option strings, dest, kind): "bool" takes no value, "value" one, "optional" zero or one,
# "many" one or more (the real CLI's `<name...>` options).
_OPTIONS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("-p", "--print"), "print", "bool"),
    (("--output-format",), "output_format", "value"),
    (("--input-format",), "input_format", "value"),
    (("--verbose",), "verbose", "bool"),
    (("-r", "--resume"), "resume", "optional"),
    (("-c", "--continue"), "continue_session", "bool"),
    (("--session-id",), "session_id", "value"),
    (("--fork-session",), "fork_session", "bool"),
    (("--no-session-persistence",), "no_session_persistence", "bool"),
    (("--model",), "model", "value"),
    (("--fallback-model",), "fallback_model", "value"),
    (("--max-turns",), "max_turns", "value"),
    (("--effort",), "effort", "value"),
    (("--add-dir",), "add_dir", "many"),
    (("--append-system-prompt-file",), "append_system_prompt_file", "value"),
    (("--append-system-prompt",), "append_system_prompt", "value"),
    (("--system-prompt",), "system_prompt", "value"),
    (("--mcp-config",), "mcp_config", "many"),
    (("--strict-mcp-config",), "strict_mcp_config", "bool"),
    (("--dangerously-skip-permissions",), "dangerously_skip_permissions", "bool"),
    (("--permission-mode",), "permission_mode", "value"),
    (("--allowedTools", "--allowed-tools"), "allowed_tools", "many"),
    (("--disallowedTools", "--disallowed-tools"), "disallowed_tools", "many"),
    (("--include-partial-messages",), "include_partial_messages", "bool"),
    (("--list-scenarios",), "list_scenarios", "bool"),
    (("-v", "--version"), "version", "bool"),
    (("-h", "--help"), "help", "bool"),
    # Known to the real CLI but without meaning for the fake: parsed so their values are
    # not read as the prompt, then ignored.
    (("--agent",), "_agent", "value"),
    (("--agents",), "_agents", "value"),
    (("--allow-dangerously-skip-permissions",), "_allow_skip", "bool"),
    (("--bare",), "_bare", "bool"),
    (("--betas",), "_betas", "many"),
    (("-d", "--debug"), "_debug", "optional"),
    (("--debug-file",), "_debug_file", "value"),
    (("--disable-slash-commands",), "_no_slash", "bool"),
    (("--include-hook-events",), "_hook_events", "bool"),
    (("--json-schema",), "_json_schema", "value"),
    (("--max-budget-usd",), "_budget", "value"),
    (("-n", "--name"), "_name", "value"),
    (("--replay-user-messages",), "_replay", "bool"),
    (("--setting-sources",), "_setting_sources", "value"),
    (("--settings",), "_settings", "value"),
    (("--tools",), "_tools", "many"),
    (("--plugin-dir",), "_plugin_dir", "value"),
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="claude", add_help=False, allow_abbrev=False,
                                     exit_on_error=False)
    for names, dest, kind in _OPTIONS:
        if kind == "bool":
            parser.add_argument(*names, dest=dest, action="store_true")
        elif kind == "value":
            parser.add_argument(*names, dest=dest)
        elif kind == "optional":
            parser.add_argument(*names, dest=dest, nargs="?", const="")
        else:
            parser.add_argument(*names, dest=dest, nargs="+", action="extend")
    parser.add_argument("prompt_arg", nargs="?")
    return parser


def parse(argv: list[str]) -> Flags:
    """Parse `argv` (without the program name).

    Raises:
        FlagError: a known option is missing its value or has a bad one.
    """
    try:
        namespace, unknown = _parser().parse_known_args(argv)
    except argparse.ArgumentError as exc:
        raise FlagError(str(exc)) from exc
    values = {k: v for k, v in vars(namespace).items() if not k.startswith("_")}
    raw_turns = values.pop("max_turns")
    values["max_turns"] = _positive_int("--max-turns", raw_turns)
    for dest in ("add_dir", "mcp_config", "allowed_tools", "disallowed_tools"):
        values[dest] = values[dest] or []
    if values["output_format"] is None:
        values["output_format"] = "text"
    if values["input_format"] is None:
        values["input_format"] = "text"
    if values["output_format"] not in ("text", "json", "stream-json"):
        raise FlagError(f"--output-format must be text, json or stream-json, "
                        f"not {values['output_format']!r}")
    return Flags(unknown=list(unknown), **values)


def _positive_int(option: str, raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise FlagError(f"{option} expects a whole number, got {raw!r}") from None
    if value < 1:
        raise FlagError(f"{option} must be at least 1, got {value}")
    return value
