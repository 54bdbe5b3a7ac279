"""Where the fake remembers the sessions it created, per HOME and working directory.

The real CLI keeps each conversation at `$HOME/.claude/projects/<cwd, / turned to ->/<id>.jsonl`,
so `--resume <id>` only works from the directory the session started in. The fake mirrors
that under `$HOME/.fake-claude/sessions/<cwd slug>/<id>.json`, so resume semantics (and
their failure when the HOME or the cwd differ) behave the same.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import msgspec

STORE_DIR = Path(".fake-claude") / "sessions"
# Names the last session used here; file times are too coarse to order quick runs.
LATEST_FILE = "latest"


class SessionFile(msgspec.Struct):
    """What the fake keeps about a session: enough to resume it and to inspect it."""

    session_id: str
    cwd: str
    scenarios: list[str] = msgspec.field(default_factory=list)


def cwd_slug(cwd: str) -> str:
    """The real CLI's directory name for a working directory: non-alphanumerics become `-`."""
    return re.sub(r"[^A-Za-z0-9]", "-", cwd)


class SessionStore:
    """Sessions created under one HOME for one working directory."""

    def __init__(self, home: Path, cwd: str) -> None:
        self.cwd = cwd
        self.directory = home / STORE_DIR / cwd_slug(cwd)

    def _path(self, session_id: str) -> Path:
        if not session_id or "/" in session_id or session_id.startswith("."):
            raise ValueError(f"not a usable session id: {session_id!r}")
        return self.directory / f"{session_id}.json"

    def exists(self, session_id: str) -> bool:
        """Whether `session_id` was created here (an unusable id never was)."""
        try:
            return self._path(session_id).is_file()
        except ValueError:
            return False

    def latest(self) -> str | None:
        """The most recently used session here, as `--continue` picks it."""
        try:
            session_id = (self.directory / LATEST_FILE).read_text().strip()
        except FileNotFoundError:
            return None
        return session_id if self.exists(session_id) else None

    def record(self, session_id: str, scenario: str) -> None:
        """Create or extend `session_id` with one more run of `scenario`."""
        path = self._path(session_id)
        if path.is_file():
            session = msgspec.json.decode(path.read_bytes(), type=SessionFile)
        else:
            session = SessionFile(session_id=session_id, cwd=self.cwd)
        session.scenarios.append(scenario)
        self.directory.mkdir(parents=True, exist_ok=True)
        _write_atomically(path, msgspec.json.encode(session))
        _write_atomically(self.directory / LATEST_FILE, session_id.encode())


def _write_atomically(path: Path, data: bytes) -> None:
    # Write then rename, so a concurrent reader never sees half a file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
