"""Errors raised by the offline reports, each with a one-line reason for a command line.

    ReportError           anything a report cannot do with the input it was given
    ├── UnknownRun        the run id is not in the log (or not before ``until``)
    └── BadKinds          a ``--kinds`` list names an event kind that does not exist
"""

from __future__ import annotations


class ReportError(ValueError):
    """Base class: ``str(err)`` names what is wrong."""


class UnknownRun(ReportError):
    def __init__(self, run_id: str, path: str) -> None:
        super().__init__(f"no run {run_id!r} in {path}")
        self.run_id = run_id
        self.path = path


class BadKinds(ReportError):
    pass
