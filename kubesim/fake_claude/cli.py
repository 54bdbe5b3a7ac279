"""`claude` stand-in: read the prompt, pick the scenario, resolve the session, play it.

Exit codes: the scenario's (see `--list-scenarios`); 1 for the errors the real CLI also
reports (no prompt, stream-json without --verbose, unknown session); 2 when the fake itself
is misused (bad scenario header or setting, not in --print mode).
"""

from __future__ import annotations

import hashlib
import os
import signal
import sys
import uuid
from pathlib import Path
from typing import Any, BinaryIO

from kubesim.fake_claude import flags as flags_mod
from kubesim.fake_claude import header, ids, scenarios
from kubesim.fake_claude.output import Output
from kubesim.fake_claude.play import Invocation, MaxTurnsReached, Play, load_init_template
from kubesim.fake_claude.sessions import SessionStore

VERSION = "2.1.197 (Claude Code; kubesim fake)"
USAGE_ERROR = 2


class UsageError(Exception):
    """The fake was called in a way it cannot play; the message says why."""

    def __init__(self, message: str, code: int = USAGE_ERROR) -> None:
        super().__init__(message)
        self.code = code


def main() -> int:
    """The `claude` program: behave like a CLI process, then `run` with the real streams."""
    _behave_like_a_cli()
    return run(sys.argv[1:], stdin=sys.stdin.buffer, stdout=sys.stdout.buffer,
               stderr=sys.stderr.buffer)


def run(argv: list[str], *, stdin: BinaryIO, stdout: BinaryIO, stderr: BinaryIO) -> int:
    """Play one invocation with the given streams; returns the exit code.

    It reads the working directory and `$HOME` of the current process (sessions live there).
    """
    try:
        return _run(argv, stdin, stdout, stderr)
    except UsageError as exc:
        stderr.write(f"{exc}\n".encode())
        stderr.flush()
        return exc.code


def _behave_like_a_cli() -> None:
    # Python ignores SIGPIPE and turns SIGINT into KeyboardInterrupt; a real CLI just dies,
    # which is what a reader closing the pipe or a kill should see. SIGTERM stays default.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _run(argv: list[str], stdin: BinaryIO, stdout: BinaryIO, stderr: BinaryIO) -> int:
    try:
        flags = flags_mod.parse(argv)
    except flags_mod.FlagError as exc:
        raise UsageError(f"error: {exc}", code=1) from exc
    if flags.version:
        stdout.write(f"{VERSION}\n".encode())
        return 0
    if flags.list_scenarios:
        stdout.write(f"{scenarios.markdown_table()}\n".encode())
        return 0
    if flags.help:
        stdout.write(b"fake claude: run with -p and a prompt on stdin; a first line\n"
                     b"'#scenario NAME key=value ...' picks the scenario (see --list-scenarios)\n")
        return 0
    if not flags.print:
        raise UsageError("fake claude: only --print (-p) mode is simulated; interactive "
                         "sessions are not")
    if flags.output_format == "stream-json" and not flags.verbose:
        raise UsageError("Error: When using --print, --output-format=stream-json requires "
                         "--verbose", code=1)
    if flags.session_id is not None and not _is_uuid(flags.session_id):
        raise UsageError("Error: Invalid session ID. Must be a valid UUID.", code=1)
    prompt = _read_prompt(flags, stdin)
    scenario, params = _choose_scenario(prompt)
    inv = _invocation(argv, flags, prompt, scenario, params)
    out = Output(stdout, stderr, output_format=flags.output_format, pace_ms=params["pace_ms"])
    play = Play(inv=inv, out=out, ids=ids.Ids(inv.seed), template=load_init_template())
    return _play(play, scenario, params)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _read_prompt(flags: flags_mod.Flags, stdin: BinaryIO) -> str:
    if flags.prompt_arg not in (None, "-"):
        prompt = flags.prompt_arg
    else:
        prompt = stdin.read().decode("utf-8", errors="replace")
    if not prompt.strip():
        raise UsageError("Error: Input must be provided either through stdin or as a prompt "
                         "argument when using --print", code=1)
    return prompt


def _choose_scenario(prompt: str) -> tuple[scenarios.Scenario, dict[str, Any]]:
    try:
        found = header.find(prompt)
        name, raw = (found.name, found.settings) if found else ("happy", {})
        scenario = scenarios.lookup(name)
        return scenario, scenario.settings(raw)
    except (header.HeaderError, scenarios.SettingError) as exc:
        raise UsageError(f"fake claude: {exc}") from exc


def _invocation(argv: list[str], flags: flags_mod.Flags, prompt: str,
                scenario: scenarios.Scenario, params: dict[str, Any]) -> Invocation:
    cwd = os.getcwd()
    home = Path(os.environ.get("HOME") or Path.home())
    store = SessionStore(home, cwd)
    seed = str(params["seed"]) if params["seed"] is not None else (
        hashlib.sha256(prompt.encode()).hexdigest())
    resumed = False
    if flags.resume:
        session_id, resumed = flags.resume, True
    elif flags.continue_session:
        latest = store.latest()
        if latest is None:
            raise UsageError("No conversation found to continue", code=1)
        session_id, resumed = latest, True
    else:
        session_id = flags.session_id or ids.session_id_for(seed)
    if resumed and flags.fork_session:
        session_id, resumed = flags.session_id or ids.session_id_for(f"{seed} fork"), False
    return Invocation(
        argv=list(argv), flags=flags, prompt=prompt, scenario=scenario.name, params=dict(params),
        seed=seed, session_id=session_id, resumed=resumed, cwd=cwd, home=home,
        store=None if flags.no_session_persistence else store,
    )


def _play(play: Play, scenario: scenarios.Scenario, params: dict[str, Any]) -> int:
    inv = play.inv
    if inv.resumed and not (inv.store or SessionStore(inv.home, inv.cwd)).exists(inv.session_id):
        # As the real CLI: resuming a session this HOME and cwd never saw fails up front.
        scenario = scenarios.lookup("unknown-session")
        params = {**params, "exit": None, "code": None}
    try:
        outcome = scenario.play(play)
    except MaxTurnsReached:
        play.result_max_turns()
        play.out.finish()
        return 1
    except scenarios.SettingError as exc:
        raise UsageError(f"fake claude: {exc}") from exc
    play.out.finish()
    return scenarios.exit_code(scenario, params, outcome)
