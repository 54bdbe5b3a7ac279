"""Identifiers and timestamps for one fake run, all drawn from one seed.

The same seed gives the same session id, message ids, record uuids and timestamps, so two
runs with the same seed print the same bytes. Without a `seed=` setting the seed is the
prompt's SHA-256, so a given prompt always plays the same way.
"""

from __future__ import annotations

import datetime
import hashlib
import random
import string
import uuid

_ALPHABET = string.ascii_letters + string.digits
# Timestamps start here plus a seed-chosen offset, then advance with the run's planned time.
_EPOCH = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def session_id_for(seed: str) -> str:
    """The session id a new session started with `seed` gets (a version-4 UUID)."""
    digest = hashlib.sha256(f"fake-claude session {seed}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


class Ids:
    """A seeded source of the id formats the real CLI and API use."""

    def __init__(self, seed: str) -> None:
        self._random = random.Random(f"fake-claude {seed}")
        self._start = _EPOCH + datetime.timedelta(seconds=self._random.randrange(86400 * 300))

    def _token(self, length: int) -> str:
        return "".join(self._random.choice(_ALPHABET) for _ in range(length))

    def uuid(self) -> str:
        """A record uuid."""
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def message_id(self) -> str:
        return f"msg_01{self._token(22)}"

    def tool_use_id(self) -> str:
        return f"toolu_01{self._token(22)}"

    def request_id(self) -> str:
        return f"req_011C{self._token(20)}"

    def signature(self) -> str:
        return self._token(64)

    def randint(self, low: int, high: int) -> int:
        """A seeded integer in [low, high], for plausible durations."""
        return self._random.randint(low, high)

    def timestamp(self, elapsed_ms: int) -> str:
        """An ISO-8601 UTC timestamp `elapsed_ms` after the run's seeded start."""
        moment = self._start + datetime.timedelta(milliseconds=elapsed_ms)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
