"""Structured logging for the daemon: one record per line on stderr, JSON or console text.

Why this module exists: an operator greps and ships the daemon's stderr, so every record has the
same shape — a timestamp, a level, the module's logger name, a short dotted event name
(``api.listening``, ``daemon.stopping``) and key/value fields. Modules log with
``logging.getLogger(__name__)`` and pass fields through :func:`fields`; nothing else is needed.

Secrets never reach the log: a field whose name looks like it holds one (``token``,
``password``, ``prompt``, ``env`` …) is written as ``"<redacted>"`` whatever its value.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from collections.abc import Mapping
from typing import IO, Any

import msgspec

FORMATS = ("json", "console")
# Field names whose values are never written (the request body travels through the API,
# and a careless ``fields(prompt=...)`` must not leak it).
_SECRET_WORDS = ("token", "password", "secret", "prompt", "authorization", "env", "apikey",
                 "api_key", "credential")
_REDACTED = "<redacted>"
_FIELDS_ATTR = "supervisor_fields"
# Values msgspec cannot encode (paths, exceptions) are written as their str().
_encoder = msgspec.json.Encoder(enc_hook=str)


def fields(**values: Any) -> dict[str, Any]:
    """The ``extra=`` argument that attaches key/value fields to one log record.

    Example: ``log.info("run.accepted", extra=logs.fields(run_id=rid, agent=aid))``.
    """
    return {_FIELDS_ATTR: values}


def is_secret_field(name: str) -> bool:
    """True when a field's name suggests its value must not be logged."""
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def _record_fields(record: logging.LogRecord) -> dict[str, Any]:
    raw: Mapping[str, Any] = getattr(record, _FIELDS_ATTR, {})
    return {key: (_REDACTED if is_secret_field(key) else value) for key, value in raw.items()}


def _timestamp(record: logging.LogRecord) -> str:
    moment = dt.datetime.fromtimestamp(record.created, tz=dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "event", …fields, "exc"?}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in _record_fields(record).items():
            out.setdefault(key, value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return _encoder.encode(out).decode("utf-8", errors="replace")


class ConsoleFormatter(logging.Formatter):
    """``2026-01-02T03:04:05.678Z INFO  logger  event key=value …`` for people."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [_timestamp(record), f"{record.levelname:<7}", record.name, record.getMessage()]
        parts += [f"{key}={value}" for key, value in _record_fields(record).items()]
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure(fmt: str = "json", *, level: int = logging.INFO,
              stream: IO[str] | None = None) -> logging.Handler:
    """Send every record to ``stream`` (stderr) in the chosen format; returns the handler.

    Replaces handlers installed by an earlier call, so it is safe to call more than once.

    Raises:
        ValueError: ``fmt`` is not one of :data:`FORMATS`.
    """
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    handler.set_name("paperclip-supervisor")
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == "paperclip-supervisor":
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
