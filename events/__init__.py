"""The event log spine: event types, the SQLite store, the fold and replay.

Pure Python and sqlite3 only: no Kubernetes, Trio or HTTP code may be imported here.
"""

from events import types as types
from events.codec import StoredEvent as StoredEvent
from events.errors import CorruptLog as CorruptLog
from events.errors import EventLogError as EventLogError
from events.errors import LogFileMissing as LogFileMissing
from events.errors import LogLocked as LogLocked
from events.errors import NotAnEventLog as NotAnEventLog
from events.errors import SchemaTooNew as SchemaTooNew
from events.state import LogState as LogState
from events.state import RunState as RunState
from events.state import fold as fold
from events.state import state_hash as state_hash
from events.store import EventStore as EventStore

__all__ = [
    "CorruptLog",
    "EventLogError",
    "EventStore",
    "LogFileMissing",
    "LogLocked",
    "LogState",
    "NotAnEventLog",
    "RunState",
    "SchemaTooNew",
    "StoredEvent",
    "fold",
    "state_hash",
    "types",
]
