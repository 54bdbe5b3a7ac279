"""Errors raised by the event log.

    EventLogError                    anything wrong with an event log file
    ├── LogFileMissing               the path does not exist (and we were not asked to create it)
    ├── NotAnEventLog                empty file, random bytes, or another application's database
    ├── SchemaTooNew                 written by a newer supervisor; refused, never altered
    ├── CorruptLog                   SQLite reports damage (torn write, bad page); says where
    └── LogLocked                    another daemon holds the writer lock on this file

Each carries the file path and a one-line reason suitable for a command line's stderr.
"""

from __future__ import annotations


class EventLogError(Exception):
    """Base class: ``str(err)`` is a one-line reason that names the file."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class LogFileMissing(EventLogError):
    pass


class NotAnEventLog(EventLogError):
    pass


class SchemaTooNew(EventLogError):
    pass


class CorruptLog(EventLogError):
    pass


class LogLocked(EventLogError):
    pass
