"""Where the pinned real Claude Code CLI lives, and the environment that keeps it offline.

`tools/claude-cli/install.sh` installs `@anthropic-ai/claude-code` into
`tools/claude-cli/node_modules`. A pod (or a test) runs the real CLI by putting `bin_dir` first
on PATH and adding `env`: the Messages API stub's URL, a dummy key, and the switches that
stop every call that is not to that URL. `IS_SANDBOX=1` lets `--dangerously-skip-permissions`
run as root, which is what the test machines are. Sessions are kept under `$HOME/.claude`
per working directory, so a resume must reuse both the HOME and the cwd.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PINNED_VERSION = "2.1.197"
CLI_DIR_ENV = "PAPERCLIP_CLAUDE_CLI_DIR"
DUMMY_API_KEY = "dummy"

# Each of these is needed: without the first the CLI still looks up api.anthropic.com.
OFFLINE_ENV = {
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "DISABLE_AUTOUPDATER": "1",
    "IS_SANDBOX": "1",
}


class RealClaudeUnavailable(RuntimeError):
    """The real CLI is not installed where the project expects it."""


@dataclass(frozen=True)
class RealClaude:
    """What a process needs to run the real CLI: a PATH entry and environment variables."""

    bin_dir: Path
    env: dict[str, str]

    @property
    def executable(self) -> Path:
        return self.bin_dir / "claude"


def cli_dir() -> Path:
    """`tools/claude-cli` of this checkout, or `$PAPERCLIP_CLAUDE_CLI_DIR` when set."""
    override = os.environ.get(CLI_DIR_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "tools" / "claude-cli"


def bin_dir() -> Path | None:
    """The directory holding the installed `claude`, or None if it is not installed."""
    candidate = cli_dir() / "node_modules" / ".bin"
    return candidate if os.access(candidate / "claude", os.X_OK) else None


def offline_env(base_url: str, *, home: Path | None = None,
                max_retries: int | None = None) -> dict[str, str]:
    """Environment variables that point the CLI at `base_url` and keep it off the network.

    Args:
        base_url: the Messages API stub, e.g. `http://127.0.0.1:PORT`.
        home: a HOME for the CLI (it keeps sessions and settings there); None leaves it out.
        max_retries: sets CLAUDE_CODE_MAX_RETRIES; 0 makes a 429/5xx fail at once instead
            of after the CLI's own retries with backoff (400 is never retried).
    """
    env = {"ANTHROPIC_BASE_URL": base_url, "ANTHROPIC_API_KEY": DUMMY_API_KEY, **OFFLINE_ENV}
    if home is not None:
        env["HOME"] = str(home)
    if max_retries is not None:
        env["CLAUDE_CODE_MAX_RETRIES"] = str(max_retries)
    return env


def real_claude(base_url: str, *, home: Path | None = None,
                max_retries: int | None = None) -> RealClaude:
    """The bin dir and environment to run the real CLI against the stub at `base_url`.

    Raises:
        RealClaudeUnavailable: the CLI is not installed (run tools/claude-cli/install.sh).
    """
    found = bin_dir()
    if found is None:
        raise RealClaudeUnavailable(
            f"the real Claude Code CLI is not installed under {cli_dir()}; "
            f"run tools/claude-cli/install.sh"
        )
    return RealClaude(bin_dir=found, env=offline_env(base_url, home=home, max_retries=max_retries))
